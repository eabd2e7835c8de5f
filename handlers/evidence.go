package handlers

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/views"
)

// inquiryVerifications shows the inquiry's verifications as Persona has them now: each one's
// checks, and for a government ID what it says against what was entered, with its photos.
func (s *Server) inquiryVerifications(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	entered, err := s.inq.EnteredIdentity(r.Context(), id)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	ps, err := s.inq.Verifications(r.Context(), actor(r), id)
	if errors.Is(err, db.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	errText, status := "", http.StatusOK
	if errors.Is(err, inquiry.ErrReadBudget) {
		status = http.StatusTooManyRequests
	}
	if err != nil {
		p := inquiry.ProblemOf(err)
		if p == nil {
			s.serverError(w, r, err)
			return
		}
		errText = p.Words
	}
	q, err := s.db.GetInquiry(r.Context(), id)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		s.serverError(w, r, err)
		return
	}
	redacted := q != nil && !q.RedactedAt.IsZero()
	seePhotos := roleAccess(currentUser(r).Role) >= Agent
	vs := make([]*views.Verification, len(ps))
	for i, p := range ps {
		v := &views.Verification{ID: p.ID, Type: p.Type, Status: p.Status, Photos: photoViews(id, p, redacted, seePhotos)}
		if d, ok := p.Document(); ok {
			v.Document = &views.Document{Type: views.IDClassText(d.Class), Country: inquiry.CountryName(d.Country), NumberEnding: d.NumberEnding, Expires: d.Expires, Address: d.Address}
		}
		for _, c := range p.Checks {
			v.Checks = append(v.Checks, views.Check{Name: c.Name, Status: c.Status, Reasons: c.Reasons, Required: c.Requirement == "required"})
		}
		if f, ok := p.IDFacts(); ok {
			for _, l := range inquiry.CompareID(entered, f) {
				v.Compare = append(v.Compare, views.Comparison{Label: l.Label, Entered: l.Entered, OnID: l.OnID, Result: matchWords[l.Match]})
			}
		}
		vs[i] = v
	}
	s.render(w, r, status, views.VerificationsPage(s.page(r, "Verifications", "inquiries"), id, vs, errText), views.VerificationsFragment(vs, errText))
}

// matchWords are the comparison's results as the view names them.
var matchWords = map[inquiry.Match]string{inquiry.Same: views.CompareSame, inquiry.Differs: views.CompareDiffers}

// photoLabels name each photo for people (and as the image's alternative text).
var photoLabels = map[string]string{inquiry.PhotoFront: "Front of the ID", inquiry.PhotoBack: "Back of the ID", inquiry.PhotoSelfie: "Selfie"}

// photoViews are the verification's photos for its card: the console's address of each one
// Persona has, or why there is none.
func photoViews(inquiryID string, v *inquiry.Verification, redacted, allowed bool) []views.Photo {
	var out []views.Photo
	for _, page := range v.PhotoPages() {
		ph := views.Photo{Label: photoLabels[page]}
		switch {
		case redacted:
			ph.None = "No photo: the inquiry was redacted, so Persona deleted it."
		case !allowed:
			ph.None = "Photos are shown to agents and admins."
		case v.PhotoURL(page) == "":
			ph.None = "No photo: Persona has none for this verification."
		default:
			ph.URL = "/inquiries/" + url.PathEscape(inquiryID) + "/verifications/" + url.PathEscape(v.ID) + "/photos/" + page
		}
		out = append(out, ph)
	}
	return out
}

// verificationPhoto serves one photo of a verification, fetched from Persona for this request
// and held in memory only: never stored, and marked for no cache to keep.
func (s *Server) verificationPhoto(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	page := r.PathValue("page")
	if page != inquiry.PhotoFront && page != inquiry.PhotoBack && page != inquiry.PhotoSelfie {
		s.notFound(w, r)
		return
	}
	b, ct, err := s.inq.VerificationPhoto(r.Context(), actor(r), r.PathValue("id"), r.PathValue("vid"), page)
	switch {
	case errors.Is(err, inquiry.ErrNoPhoto), errors.Is(err, db.ErrNotFound):
		s.notFound(w, r)
		return
	case err != nil && s.clientGone(r, err):
		return
	case errors.Is(err, inquiry.ErrReadBudget):
		w.Header().Set("Retry-After", "60")
		s.errorPage(w, r, http.StatusTooManyRequests, "Photo not available", inquiry.ErrReadBudget.Words)
		return
	case inquiry.ProblemOf(err) != nil:
		s.log.Warn("verification photo", "inquiry", r.PathValue("id"), "err", err)
		s.errorPage(w, r, http.StatusBadGateway, "Photo not available", inquiry.ProblemOf(err).Words)
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", "inline")
	w.Write(b)
}
