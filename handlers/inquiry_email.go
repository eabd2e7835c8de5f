package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/views"
)

// --- the detail page's Email section ---

// defaultRecipient is the address the inquiry was prefilled with.
func defaultRecipient(q *db.Inquiry) string {
	if q.Email != "" {
		return q.Email
	}
	return q.Fields["email-address"]
}

// emailPanel fills the detail page's Email section: who may send, the send log and the
// reminder schedule. The form itself is filled by fillCompose when it is open.
func (s *Server) emailPanel(r *http.Request, q *db.Inquiry) (*views.EmailPanel, error) {
	ctx := r.Context()
	staff := roleAccess(currentUser(r).Role) >= Agent
	e := &views.EmailPanel{InquiryID: q.ID, CanAct: staff, CanSend: staff && q.Status.Linkable(), Recipient: defaultRecipient(q)}
	if err := s.fillEmailLog(ctx, q.ID, e); err != nil {
		return nil, err
	}
	if !s.inq.MailStatus().Configured {
		e.MailNote = "No mail server is configured, so emails wait in the outbox until an admin sets one up."
	}
	plan, err := s.inq.Reminders(ctx, q)
	if err != nil {
		return nil, err
	}
	e.Reminders = reminderWords(plan)
	return e, nil
}

func (s *Server) fillEmailLog(ctx context.Context, inquiryID string, e *views.EmailPanel) error {
	emails, err := s.db.ListEmails(ctx, db.OutboxFilter{InquiryID: inquiryID, Limit: 50})
	if err != nil {
		return err
	}
	e.Log = e.Log[:0]
	for _, m := range emails {
		e.Log = append(e.Log, emailRow(m))
		// Only worth asking again while something can still change by itself.
		if m.State == db.EmailSending || m.State == db.EmailQueued && s.inq.MailStatus().Configured {
			e.Poll = true
		}
	}
	return nil
}

// reminderWords says where an inquiry's reminder schedule stands, e.g. "Reminders: day 1
// sent, day 3 planned for 2026-05-04 10:00 UTC."
func reminderWords(p *inquiry.ReminderPlan) string {
	if p == nil {
		return ""
	}
	days := make([]string, len(p.Days))
	for i, d := range p.Days {
		days[i] = strconv.Itoa(d)
	}
	if p.Started.IsZero() {
		if p.Stopped {
			return ""
		}
		return "Reminders: a fresh link " + dayList(days) + " after the first email is delivered, while the person has not finished."
	}
	var parts []string
	for _, st := range p.Steps {
		day := "day " + strconv.Itoa(st.Day) + " "
		switch st.State {
		case "planned", "due":
			if !p.Stopped {
				if st.State == "due" {
					parts = append(parts, day+"due now")
				} else {
					parts = append(parts, day+"planned for "+views.When(st.Due))
				}
			}
		case "skipped":
			parts = append(parts, day+"skipped (the console was not running)")
		case db.EmailQueued, db.EmailSending:
			parts = append(parts, day+"on its way")
		default:
			parts = append(parts, day+strings.ToLower(views.EmailStateText(st.State)))
		}
	}
	if p.Stopped {
		msg := "Reminders stopped: the inquiry is " + p.Finished + "."
		if len(parts) > 0 {
			msg += " Reminders: " + strings.Join(parts, ", ") + "."
		}
		return msg
	}
	return "Reminders: " + strings.Join(parts, ", ") + "."
}

func dayList(days []string) string {
	switch len(days) {
	case 1:
		return "on day " + days[0]
	default:
		return "on days " + strings.Join(days[:len(days)-1], ", ") + " and " + days[len(days)-1]
	}
}

// fillCompose opens the form with recipient and the preview of what Send would send.
func (s *Server) fillCompose(r *http.Request, q *db.Inquiry, e *views.EmailPanel, recipient string) {
	e.Compose = true
	e.Recipient = recipient
	// A form shown again after an error keeps its key: nothing was queued under it.
	if e.Key = r.PostFormValue("key"); e.Key == "" {
		e.Key = inquiry.NewKey()
	}
	d, err := s.inq.Preview(r.Context(), actor(r), q)
	if err != nil {
		if e.FormError == "" {
			e.FormError = sentence(err.Error())
		}
		return
	}
	e.Subject, e.Text = d.Subject, d.Text
	to := recipient
	if inquiry.ValidRecipient(to) != nil {
		to = "" // the mail app asks for it
	}
	switch {
	case d.Link == nil:
		e.PreviewNote = "Send makes a fresh one-time link for this email. To use your own mail app instead, issue a new link first (New link, above)."
	case d.Fresh:
		e.PreviewNote = "Send makes a fresh one-time link for this email; the preview, Open in mail app and Copy message use the current link."
		e.MailtoURL = views.MailtoURL(to, d.Subject, d.Text)
	default:
		e.MailtoURL = views.MailtoURL(to, d.Subject, d.Text)
	}
}

// sentence capitalises the first letter and ends with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// renderCompose shows the detail page with the Email form open (or just the Email section for
// htmx).
func (s *Server) renderCompose(w http.ResponseWriter, r *http.Request, status int, q *db.Inquiry, recipient string, edit func(*views.EmailPanel)) {
	v, err := s.detailView(r, q, "")
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if v.Email == nil {
		if v.Email, err = s.emailPanel(r, q); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	if edit != nil {
		edit(v.Email)
	}
	s.fillCompose(r, q, v.Email, recipient)
	p := s.page(r, "Email inquiry "+q.ID, "inquiries")
	s.render(w, r, status, views.InquiryDetailPage(p, v), views.EmailPanelFragment(*v.Email))
}

func (s *Server) emailForm(w http.ResponseWriter, r *http.Request) {
	q := s.loadInquiry(w, r)
	if q == nil {
		return
	}
	recipient := defaultRecipient(q)
	if r.URL.Query().Has("recipient") {
		recipient = strings.TrimSpace(r.URL.Query().Get("recipient"))
	}
	s.renderCompose(w, r, http.StatusOK, q, recipient, nil)
}

// emailPreview answers the Recipient field's htmx request with the preview for that address
// (the mail-app link carries it).
func (s *Server) emailPreview(w http.ResponseWriter, r *http.Request) {
	q := s.loadInquiry(w, r)
	if q == nil {
		return
	}
	recipient := strings.TrimSpace(r.URL.Query().Get("recipient"))
	if !isFragment(r) {
		http.Redirect(w, r, "/inquiries/"+q.ID+"/email?"+url.Values{"recipient": {recipient}}.Encode(), http.StatusSeeOther)
		return
	}
	e := &views.EmailPanel{InquiryID: q.ID}
	s.fillCompose(r, q, e, recipient)
	s.render(w, r, http.StatusOK, views.EmailDraft(*e), views.EmailDraft(*e))
}

func (s *Server) sendEmail(w http.ResponseWriter, r *http.Request) {
	q := s.loadInquiry(w, r)
	if q == nil {
		return
	}
	recipient := strings.TrimSpace(r.PostFormValue("recipient"))
	m, err := s.inq.Send(r.Context(), actor(r), q.ID, recipient, r.PostFormValue("key"))
	if err == nil && r.PostFormValue("resume") == "yes" {
		s.flash(w, r, views.ResumeEmailedFlash(m.Recipient, s.inq.MailStatus().Configured))
		redirect(w, r, "/inquiries/"+q.ID)
		return
	}
	if err == nil {
		s.flash(w, r, views.EmailQueuedFlash(m.Recipient, s.inq.MailStatus().Configured))
		redirect(w, r, "/inquiries/"+q.ID)
		return
	}
	if nq, _ := s.inq.Get(r.Context(), q.ID); nq != nil {
		q = nq // the link step may have refreshed the status
	}
	switch {
	case errors.Is(err, inquiry.ErrInvalidRecipient):
		s.renderCompose(w, r, http.StatusUnprocessableEntity, q, recipient, func(e *views.EmailPanel) {
			e.Error = "Enter one email address, like name@example.com."
		})
	case errors.Is(err, inquiry.ErrNoLinkNeeded), errors.Is(err, inquiry.ErrEmailWording):
		s.renderCompose(w, r, http.StatusConflict, q, recipient, func(e *views.EmailPanel) {
			e.FormError = "Nothing was sent: " + err.Error() + "."
		})
	case inquiry.ProblemOf(err) != nil:
		s.log.WarnContext(r.Context(), "email link: no link from Persona", "inquiry", q.ID, "err", err)
		s.renderCompose(w, r, http.StatusBadGateway, q, recipient, func(e *views.EmailPanel) {
			e.FormError = "Nothing was sent: Persona could not issue a link. " + inquiry.ProblemOf(err).Words
		})
	default:
		s.serverError(w, r, err)
	}
}

// emailLog answers the send log's own refresh.
func (s *Server) emailLog(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !isFragment(r) {
		http.Redirect(w, r, "/inquiries/"+url.PathEscape(id), http.StatusSeeOther)
		return
	}
	e := &views.EmailPanel{InquiryID: id, CanAct: roleAccess(currentUser(r).Role) >= Agent}
	if err := s.fillEmailLog(r.Context(), id, e); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.EmailLog(*e), views.EmailLog(*e))
}
