package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/views"
)

// --- Retry and Cancel ---

func (s *Server) retryEmail(w http.ResponseWriter, r *http.Request)  { s.emailAction(w, r, "retry") }
func (s *Server) cancelEmail(w http.ResponseWriter, r *http.Request) { s.emailAction(w, r, "cancel") }

func (s *Server) emailAction(w http.ResponseWriter, r *http.Request, action string) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	back := safeNext(r.PostFormValue("back"))
	var e db.OutboxEmail
	if action == "retry" {
		e, err = s.inq.RetryEmail(r.Context(), actor(r), id)
	} else {
		e, err = s.inq.CancelEmail(r.Context(), actor(r), id)
	}
	switch {
	case errors.Is(err, db.ErrNotFound):
		s.errorPage(w, r, http.StatusNotFound, "Email not found", "There is no email "+strconv.FormatInt(id, 10)+" in the outbox.")
		return
	case errors.Is(err, db.ErrEmailState):
		// It moved on while the page was open: say where it is now.
		now, gerr := s.db.GetEmail(r.Context(), id)
		if gerr != nil {
			s.serverError(w, r, gerr)
			return
		}
		s.flash(w, r, views.EmailActionRefusedFlash(now.Recipient, action, now.State))
	case err != nil:
		s.serverError(w, r, err)
		return
	case action == "retry":
		s.flash(w, r, views.EmailRetriedFlash(e.Recipient))
	default:
		s.flash(w, r, views.EmailCanceledFlash(e.Recipient))
	}
	redirect(w, r, back)
}

// --- Outbox page ---

// emailRow is one email as the outbox and the detail page's send log show it.
func emailRow(e db.OutboxEmail) views.EmailRow {
	by := e.QueuedByName
	if e.QueuedBy == 0 {
		by = model.System.Name
	}
	return views.EmailRow{
		ID: e.ID, InquiryID: e.InquiryID, Recipient: e.Recipient, Basis: inquiry.RecipientBasisWords(e.RecipientBasis, by), Subject: e.Subject, Kind: e.Kind,
		State: e.State, Attempts: e.Attempts, LastError: e.LastError, QueuedAt: e.QueuedAt,
		SentAt: e.SentAt, NextAttemptAt: e.NextAttemptAt, QueuedBy: by,
		CanRetry: e.State == db.EmailFailed, CanCancel: e.State == db.EmailQueued,
	}
}

func (s *Server) outboxPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	if !slices.Contains(db.EmailStates, state) {
		state = ""
	}
	f := db.OutboxFilter{State: state, Limit: 100}
	f.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	emails, err := s.db.ListEmails(r.Context(), f)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	counts, err := s.db.CountEmailsByState(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	v := views.OutboxView{State: state, Mail: mailServer(s.inq.MailStatus()), CanAct: true, BackPath: r.URL.RequestURI()}
	for _, st := range db.EmailStates {
		v.States = append(v.States, views.StateCount{State: st, Label: views.EmailStateText(st), N: counts[st]})
	}
	for _, e := range emails {
		v.Rows = append(v.Rows, emailRow(e))
	}
	if len(emails) == f.Limit {
		next := url.Values{"before": {strconv.FormatInt(emails[len(emails)-1].ID, 10)}}
		if state != "" {
			next.Set("state", state)
		}
		v.More = "/outbox?" + next.Encode()
	}
	p := s.page(r, "Outbox", "outbox")
	s.takeFlash(w, r, &p)
	s.render(w, r, http.StatusOK, views.OutboxPage(p, v), nil)
}

func mailServer(m inquiry.MailStatus) views.MailServer {
	return views.MailServer{Configured: m.Configured, Summary: m.Summary, From: m.From, ReplyTo: m.ReplyTo}
}
