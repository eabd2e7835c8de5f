package handlers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/views"
)

var fieldLabels = map[string]string{
	"name-first": "First name", "name-middle": "Middle name", "name-last": "Last name",
	"birthdate": "Birthdate", "email-address": "Email address", "phone-number": "Phone number",
	"address-street-1": "Street", "address-street-2": "Address line 2", "address-city": "City",
	"address-subdivision": "State or region", "address-postal-code": "Postal code",
	"address-country-code": "Country",
}

// loadInquiry finds the inquiry in the cache, or adopts it from Persona when someone opens an
// inquiry created elsewhere. It writes the error page itself and returns nil then.
func (s *Server) loadInquiry(w http.ResponseWriter, r *http.Request) *db.Inquiry {
	id := r.PathValue("id")
	q, err := s.inq.Find(r.Context(), actor(r), id)
	switch {
	case errors.Is(err, db.ErrNotFound):
		s.errorPage(w, r, http.StatusNotFound, "Inquiry not found", "There is no inquiry "+id+" here or at Persona. Check the id, or find the person in the list.")
		return nil
	case errors.Is(err, inquiry.ErrReadBudget):
		s.errorPage(w, r, http.StatusTooManyRequests, "Too many look-ups at Persona", inquiry.ErrReadBudget.Words)
		return nil
	case inquiry.ProblemOf(err) != nil:
		s.errorPage(w, r, http.StatusBadGateway, "Inquiry not cached", "Inquiry "+id+" is not in Linkdesk's cache and Persona could not be asked: "+inquiry.ProblemOf(err).Words)
		return nil
	case err != nil:
		s.serverError(w, r, err)
		return nil
	}
	return q
}

func (s *Server) inquiryDetail(w http.ResponseWriter, r *http.Request) {
	q := s.loadInquiry(w, r)
	if q == nil {
		return
	}
	s.renderDetail(w, r, http.StatusOK, q, "")
}

func (s *Server) detailView(r *http.Request, q *db.Inquiry, errText string) (views.InquiryDetail, error) {
	ctx := r.Context()
	me := currentUser(r)
	v := views.InquiryDetail{
		Inquiry: inquiryRow(q), Note: q.Note, Tags: q.Tags, SyncedAt: q.SyncedAt, Error: errText, Loaded: string(q.Status),
		CanLink:   roleAccess(me.Role) >= Agent && q.Status.Linkable(),
		CanDecide: roleAccess(me.Role) >= Reviewer,
		Decidable: q.Status.Decidable() && q.RedactedAt.IsZero(),
		Expirable: q.Status.PersonHasWork(),
	}
	v.Facts = []views.Fact{
		{Label: "Reference ID", Value: orDash(q.ReferenceID), Href: personHref(q.ReferenceID)},
		{Label: "Template", Value: v.Inquiry.Template},
		{Label: "Created", Value: views.When(q.CreatedAt), At: q.CreatedAt},
		{Label: "Created by", Value: orDash(q.CreatedByName)},
	}
	if q.IDName != "" { // set only when it differs from the name staff typed
		v.Facts = append(v.Facts, views.Fact{Label: "Name typed", Value: orDash(q.Name)}, views.Fact{Label: "Name on the ID", Value: q.IDName})
	}
	for _, t := range []struct {
		label string
		at    time.Time
	}{{"Started", q.StartedAt}, {"Completed", q.CompletedAt}, {"Failed", q.FailedAt}, {"Decided", q.DecidedAt},
		{"Expired", q.ExpiredAt}, {"Redacted", q.RedactedAt}, {"Expires", q.ExpiresAt}, {"Updated at Persona", q.UpdatedAt}} {
		if !t.at.IsZero() {
			v.Facts = append(v.Facts, views.Fact{Label: t.label, Value: views.When(t.at), At: t.at})
		}
	}
	if f, ok := s.personalDataFact(r, q.ID, v.CanDecide); ok { // retention.go
		v.Facts = append(v.Facts, f)
	}
	for _, k := range inquiry.FieldKeys {
		if val := q.Fields[k]; val != "" {
			if k == "address-country-code" {
				val = inquiry.CountryName(val) + " (" + val + ")" // the code is what is stored
			}
			v.Fields = append(v.Fields, views.Fact{Label: fieldLabels[k], Value: val})
		}
	}
	for k, val := range q.Fields {
		if _, std := fieldLabels[k]; !std && val != "" {
			v.Fields = append(v.Fields, views.Fact{Label: k, Value: val})
		}
	}

	links, err := s.db.Links(ctx, q.ID)
	if err != nil {
		return v, err
	}
	for _, l := range links {
		v.Links = append(v.Links, views.LinkView{Kind: l.Kind, URL: l.URL, ExpiresAt: l.ExpiresAt, IssuedBy: orDash(l.IssuedByName), IssuedAt: l.IssuedAt})
	}
	cur, err := s.inq.CurrentLink(ctx, q)
	if err != nil {
		return v, err
	}
	k := model.LinkFor(q.Status)
	switch {
	case k == model.LinkNone:
		v.LinkNote = "This inquiry is " + views.StatusPhrase(q.Status) + ": the person has nothing left to do, so no link is needed."
	case cur != nil:
		v.Link = &views.LinkView{Kind: cur.Kind, URL: cur.URL, ExpiresAt: cur.ExpiresAt}
	case q.Status == model.Expired && q.StartedAt.IsZero():
		v.LinkNote = "This inquiry expired before the person started. New link resumes it at Persona and makes a one-time link that opens the flow."
	case q.Status == model.Expired:
		v.LinkNote = "This inquiry expired after the person started. New link resumes it at Persona and makes a one-time link that continues where they stopped."
	case k.Fresh():
		v.LinkNote = "The person has started, so their first link no longer opens the flow. Issue a new link: a one-time link that continues where they stopped."
	default:
		v.LinkNote = "No current link. Issue a new one."
	}
	// "New link" only where it makes something new: until the person starts, the inquiry's
	// own link is the one to hand out again.
	switch {
	case k == model.LinkInquiry && cur != nil:
		v.CanLink = false
		if roleAccess(me.Role) >= Agent {
			v.NewLinkNote = "This link stays the same until the person starts, so hand out this one again. Once they have started, New link makes a one-time link."
		}
	case k.Fresh() && v.Link != nil:
		v.NewLinkNote = "New link makes a fresh one-time link; it replaces this one."
	case k == model.LinkResumeOneTime:
		v.NewLinkNote = "New link replaces the last link."
	}
	if v.Email, err = s.emailPanel(r, q); err != nil {
		return v, err
	}
	if k.Fresh() && v.Email.CanSend && inquiry.ValidRecipient(v.Email.Recipient) == nil {
		v.ResumeTo, v.ResumeKey = v.Email.Recipient, inquiry.NewKey()
		v.ResumeNote = views.ResumeNote(q.Status == model.Expired, !q.StartedAt.IsZero(), v.ResumeTo)
	}
	audit, err := s.db.ListAudit(ctx, db.AuditFilter{Target: q.ID, Limit: 50})
	if err != nil {
		return v, err
	}
	v.Audit = s.auditRows(ctx, audit)
	// Persona's own changes (the person started, completed; approved, expired) sit among the
	// staff's actions, by time.
	events, err := s.db.InquiryWebhookEvents(ctx, q.ID, 50)
	if err != nil {
		return v, err
	}
	for _, ev := range events {
		if ev.Name == "inquiry.created" {
			continue // staff's "created the inquiry" says it
		}
		row := views.AuditRow{At: ev.EventAt, Actor: views.PersonaActor, Action: ev.Name, Target: q.ID, Outcome: "ok"}
		if ev.Name == "inquiry.transitioned" {
			row.Detail = views.StepsDetail(inquiry.TransitionSteps(ev.Payload))
		}
		v.Audit = append(v.Audit, row)
	}
	slices.SortStableFunc(v.Audit, func(a, b views.AuditRow) int { return b.At.Compare(a.At) })
	return v, s.caseView(r, q, &v.Case)
}

func (s *Server) renderDetail(w http.ResponseWriter, r *http.Request, status int, q *db.Inquiry, errText string) {
	v, err := s.detailView(r, q, errText)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p := s.page(r, views.PersonTitle(v.Inquiry), "inquiries")
	s.takeFlash(w, r, &p)
	s.render(w, r, status, views.InquiryDetailPage(p, v), nil)
}

// inquiryLive answers an open detail page that heard its inquiry change: every part that
// depends on the inquiry, rendered afresh. An Email form being filled in stays open with its
// recipient while a link can still be sent; seen is the status the page's decision buttons
// were made for, so the page can say the inquiry changed.
func (s *Server) inquiryLive(w http.ResponseWriter, r *http.Request) {
	if !isFragment(r) {
		http.Redirect(w, r, "/inquiries/"+r.PathValue("id"), http.StatusSeeOther)
		return
	}
	q := s.loadInquiry(w, r)
	if q == nil {
		return
	}
	v, err := s.detailView(r, q, "")
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	query := r.URL.Query()
	seen := query.Get("seen")
	// The note compares with the status the page was opened with, not the last update's: a
	// second refetch after the last change must not take it away.
	for _, k := range []string{"loaded", "seen"} {
		if st := model.Status(query.Get(k)); slices.Contains(model.Statuses, st) {
			v.Loaded = string(st)
			break
		}
	}
	v.Changed = v.Loaded != string(q.Status)
	if query.Has("recipient") && v.Email != nil && v.Email.CanSend {
		s.fillCompose(r, q, v.Email, strings.TrimSpace(query.Get("recipient")))
	}
	c := views.InquiryDetailUpdate(v, views.PersonTitle(v.Inquiry), seen)
	s.render(w, r, http.StatusOK, c, c)
}

// staleAction says in words why an action the page offered no longer fits the inquiry (the
// page was open while it changed), or "" when it still does. It is checked against the cache,
// which webhooks, refreshes and syncs keep current, before anything is sent to Persona.
func staleAction(q *db.Inquiry, seen, action string) string {
	now := views.StatusPhrase(q.Status)
	changed := ""
	if seen != "" && seen != string(q.Status) {
		changed = "This inquiry changed from " + strings.ToLower(views.StatusText(model.Status(seen))) + " to " + strings.ToLower(views.StatusText(q.Status)) + " while the page was open. "
	}
	switch action {
	case "approve", "decline":
		if !q.Status.Decidable() || !q.RedactedAt.IsZero() {
			return changed + "It is " + now + ", so it can no longer be " + action + "d. Nothing was sent to Persona."
		}
	case "expire":
		if !q.Status.PersonHasWork() {
			return changed + "It is " + now + ", so there is nothing left to expire. Nothing was sent to Persona."
		}
	case "link":
		if !q.Status.Linkable() {
			return changed + "It is " + now + ": the person has nothing left to do, so no new link was issued."
		}
		return ""
	}
	if changed != "" {
		return changed + "Nothing was sent to Persona: look at it again and decide."
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// auditRows turns audit entries into rows, naming templates by their names instead of their ids
// (entries keep the id: a template may be renamed or removed later).
func (s *Server) auditRows(ctx context.Context, es []db.AuditEntry) []views.AuditRow {
	ts, err := s.db.Templates(ctx)
	if err != nil {
		s.log.Warn("audit: template names", "err", err) // the ids are shown instead
	}
	names := make([]string, 0, 2*len(ts))
	for _, t := range ts {
		names = append(names, t.ID, t.Name)
	}
	named := strings.NewReplacer(names...)
	out := make([]views.AuditRow, len(es))
	for i, e := range es {
		out[i] = views.AuditRow{At: e.At, Actor: e.Actor, Action: e.Action, Target: named.Replace(e.Target), Outcome: e.Outcome,
			Detail: named.Replace(e.Detail)}
	}
	return out
}

// personaFailure shows a Persona error in words on the detail page, keeping the person there.
func (s *Server) personaFailure(w http.ResponseWriter, r *http.Request, q *db.Inquiry, err error) {
	p := inquiry.ProblemOf(err)
	if p == nil && !errors.Is(err, inquiry.ErrNoLinkNeeded) {
		s.serverError(w, r, err)
		return
	}
	s.log.WarnContext(r.Context(), "persona call failed", "inquiry", q.ID, "err", err)
	msg, status := "", http.StatusBadGateway
	if p != nil {
		msg = p.Words
		if p.Rejected() {
			status = http.StatusConflict
		}
		if p == inquiry.ErrReadBudget {
			status = http.StatusTooManyRequests
		}
	}
	if errors.Is(err, inquiry.ErrNoLinkNeeded) {
		msg, status = err.Error()+".", http.StatusConflict
	}
	s.renderDetail(w, r, status, q, msg)
}

func (s *Server) refreshInquiry(w http.ResponseWriter, r *http.Request) {
	q := s.loadInquiry(w, r)
	if q == nil {
		return
	}
	before := q.Status
	nq, err := s.inq.StaffRefresh(r.Context(), actor(r), q.ID)
	if err != nil {
		s.personaFailure(w, r, q, err)
		return
	}
	msg := "Status is up to date: " + views.StatusText(nq.Status) + "."
	if nq.Status != before {
		msg = "Status changed from " + views.StatusText(before) + " to " + views.StatusText(nq.Status) + "."
	}
	s.flash(w, r, msg)
	redirect(w, r, "/inquiries/"+q.ID)
}

func (s *Server) newLink(w http.ResponseWriter, r *http.Request) {
	q := s.loadInquiry(w, r)
	if q == nil {
		return
	}
	if msg := staleAction(q, r.PostFormValue("seen"), "link"); msg != "" {
		s.renderDetail(w, r, http.StatusConflict, q, msg)
		return
	}
	l, err := s.inq.NewLink(r.Context(), actor(r), q.ID)
	if err != nil {
		if nq, _ := s.inq.Get(r.Context(), q.ID); nq != nil {
			q = nq
		}
		s.personaFailure(w, r, q, err)
		return
	}
	s.flash(w, r, "New "+strings.ToLower(strings.SplitN(linkKindWords(l.Kind), " (", 2)[0])+" issued. "+views.Until(l.ExpiresAt, time.Now())+".")
	redirect(w, r, "/inquiries/"+q.ID)
}

func linkKindWords(kind string) string {
	switch kind {
	case "one-time":
		return "one-time link"
	case "inquiry":
		return "inquiry link"
	}
	return kind + " link"
}

func (s *Server) decideInquiry(w http.ResponseWriter, r *http.Request) {
	q := s.loadInquiry(w, r)
	if q == nil {
		return
	}
	action := r.PostFormValue("action")
	if action != "approve" && action != "decline" && action != "expire" {
		s.errorPage(w, r, http.StatusUnprocessableEntity, "Unknown action", "Choose Approve, Decline or Expire on the inquiry's page.")
		return
	}
	comment := strings.TrimSpace(r.PostFormValue("comment"))
	if len(comment) > 1000 {
		comment = comment[:1000]
	}
	if msg := staleAction(q, r.PostFormValue("seen"), action); msg != "" {
		s.renderDetail(w, r, http.StatusConflict, q, msg)
		return
	}
	if r.PostFormValue("confirmed") != "yes" {
		d := views.Decision{Inquiry: inquiryRow(q), Action: action, Comment: comment}
		s.render(w, r, http.StatusOK, views.DecisionPage(s.page(r, "Confirm", "inquiries"), d), nil)
		return
	}
	nq, err := s.inq.Decide(r.Context(), actor(r), q.ID, action, comment)
	if err != nil {
		s.personaFailure(w, r, q, err)
		return
	}
	s.flash(w, r, "Inquiry "+q.ID+" is now "+views.StatusPhrase(nq.Status)+".")
	redirect(w, r, "/inquiries/"+q.ID)
}
