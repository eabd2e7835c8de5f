package handlers

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/views"
)

// photoPages are the photos each verification type has, with their labels.
var photoPages = map[string][][2]string{
	"verification/government-id": {{inquiry.PhotoFront, "Front of the ID"}, {inquiry.PhotoBack, "Back of the ID"}},
	"verification/selfie":        {{inquiry.PhotoSelfie, "Selfie"}},
}

// photoViews are the verification's photos for its card: the console's address of each one
// Persona has, or why there is none.
func photoViews(inquiryID string, v *inquiry.Verification, redacted, allowed bool) []views.Photo {
	var out []views.Photo
	for _, pg := range photoPages[v.Type] {
		ph := views.Photo{Label: pg[1]}
		switch {
		case redacted:
			ph.None = "No photo: the inquiry was redacted, so Persona deleted it."
		case !allowed:
			ph.None = "Photos are shown to agents and admins."
		case v.PhotoURL(pg[0]) == "":
			ph.None = "No photo: Persona has none for this verification."
		default:
			ph.URL = "/inquiries/" + url.PathEscape(inquiryID) + "/verifications/" + url.PathEscape(v.ID) + "/photos/" + pg[0]
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
	b, ct, err := s.inq.VerificationPhoto(r.Context(), r.PathValue("id"), r.PathValue("vid"), page)
	switch {
	case errors.Is(err, inquiry.ErrNoPhoto), errors.Is(err, db.ErrNotFound):
		s.notFound(w, r)
		return
	case err != nil && s.clientGone(r, err):
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
