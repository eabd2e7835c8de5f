package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/mail"
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

func emailRow(e db.OutboxEmail) views.EmailRow {
	by := e.QueuedByName
	if e.QueuedBy == 0 {
		by = inquiry.System.Name
	}
	return views.EmailRow{
		ID: e.ID, InquiryID: e.InquiryID, Recipient: e.Recipient, Subject: e.Subject, Kind: e.Kind,
		State: e.State, Attempts: e.Attempts, LastError: e.LastError, QueuedAt: e.QueuedAt,
		SentAt: e.SentAt, NextAttemptAt: e.NextAttemptAt, QueuedBy: by,
		CanRetry: e.State == db.EmailFailed, CanCancel: e.State == db.EmailQueued,
	}
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
	if err == nil {
		msg := "Email to " + m.Recipient + " is in the outbox"
		if s.inq.MailStatus().Configured {
			msg += " and goes out in a moment."
		} else {
			msg += ". It waits there until a mail server is configured."
		}
		s.flash(w, r, msg)
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
		s.log.Warn("email link: no link from Persona", "inquiry", q.ID, "err", err)
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
		verb := map[string]string{"retry": "tried again", "cancel": "canceled"}[action]
		s.flash(w, r, "The email to "+now.Recipient+" cannot be "+verb+": it is "+strings.ToLower(views.EmailStateText(now.State))+" now.")
	case err != nil:
		s.serverError(w, r, err)
		return
	case action == "retry":
		s.flash(w, r, "The email to "+e.Recipient+" will be tried again now.")
	default:
		s.flash(w, r, "The email to "+e.Recipient+" was canceled; it will not go out.")
	}
	redirect(w, r, back)
}

// --- Outbox page ---

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

// --- Settings: the email wording and a test email ---

// emailSettingsView builds the Email section; form and test carry typed values and errors, or
// are empty for the stored wording.
func (s *Server) emailSettingsView(r *http.Request, form, test views.Form) (views.EmailSettingsView, error) {
	if form.Values == nil {
		t, err := s.inq.EmailTemplates(r.Context())
		if err != nil {
			return views.EmailSettingsView{}, err
		}
		form.Values = map[string]string{"subject": t.Subject, "text": t.Text, "html": t.HTML}
	}
	return views.EmailSettingsView{
		Mail: mailServer(s.inq.MailStatus()), Form: form, Test: test,
		Preview: s.templatePreview(r, form),
	}, nil
}

func (s *Server) templatePreview(r *http.Request, form views.Form) views.EmailPreview {
	t := inquiry.EmailTemplates{Subject: form.V("subject"), Text: form.V("text"), HTML: form.V("html")}
	p, err := s.inq.PreviewTemplates(actor(r), t)
	if err != nil {
		return views.EmailPreview{Error: sentence(err.Error())}
	}
	return views.EmailPreview{Subject: p.Subject, Text: p.Text, HTML: p.HTML}
}

// settingsWithEmail is the whole Settings page with the Email section as its children.
func (s *Server) settingsWithEmail(r *http.Request, p views.Page, v views.SettingsView) templ.Component {
	return s.settingsPageWith(r, p, v, views.Form{}, views.Form{}, nil)
}

func (s *Server) settingsPageWith(r *http.Request, p views.Page, v views.SettingsView, form, test views.Form, edit func(*views.EmailSettingsView)) templ.Component {
	ev, err := s.emailSettingsView(r, form, test)
	if err != nil {
		return templ.ComponentFunc(func(context.Context, io.Writer) error { return err })
	}
	if edit != nil {
		edit(&ev)
	}
	return views.SettingsWithEmail(p, v, ev)
}

func emailTemplateForm(r *http.Request) views.Form {
	return views.Form{Values: map[string]string{
		"subject": r.PostFormValue("subject"), "text": r.PostFormValue("text"), "html": r.PostFormValue("html"),
	}}
}

func (s *Server) saveEmailSettings(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	if r.PostFormValue("action") == "reset" {
		if err := s.inq.ResetEmailTemplates(r.Context(), a); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.flash(w, r, "The email wording is back to Linkdesk's default.")
		redirect(w, r, "/settings#email-settings")
		return
	}
	form := emailTemplateForm(r)
	errs, err := s.inq.SaveEmailTemplates(r.Context(), a, inquiry.EmailTemplates{Subject: form.V("subject"), Text: form.V("text"), HTML: form.V("html")})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(errs) > 0 {
		form.Errors = errs
		form.Error = "The email wording was not saved; see the messages next to the fields."
		p := s.page(r, "Settings", "settings")
		s.render(w, r, http.StatusUnprocessableEntity, s.settingsPageWith(r, p, s.settingsView(views.Form{}), form, views.Form{}, nil), nil)
		return
	}
	s.flash(w, r, "Email wording saved.")
	redirect(w, r, "/settings#email-settings")
}

// emailSettingsPreview answers the live preview while an admin types.
func (s *Server) emailSettingsPreview(w http.ResponseWriter, r *http.Request) {
	form := emailTemplateForm(r)
	pv := views.EmailTemplatePreview(s.templatePreview(r, form))
	p := s.page(r, "Settings", "settings")
	s.render(w, r, http.StatusOK, s.settingsPageWith(r, p, s.settingsView(views.Form{}), form, views.Form{}, nil), pv)
}

func (s *Server) sendTestEmail(w http.ResponseWriter, r *http.Request) {
	to := strings.TrimSpace(r.PostFormValue("test_to"))
	test := views.Form{Values: map[string]string{"test_to": to}, Errors: map[string]string{}}
	status, result, ok := http.StatusOK, "", false
	err := s.inq.SendTest(r.Context(), actor(r), to)
	var te *inquiry.SendTestError
	switch {
	case err == nil:
		ok = true
		result = "The mail server accepted the test email to " + to + ". Look for it in that inbox"
		if s.catcher() != nil {
			result += " (here: the Mailbox)"
		}
		result += "."
	case errors.Is(err, inquiry.ErrInvalidRecipient):
		status = http.StatusUnprocessableEntity
		test.Errors["test_to"] = "Enter one email address, like name@example.com."
	case errors.Is(err, inquiry.ErrMailNotConfigured):
		status, result = http.StatusConflict, sentence(err.Error())
	case errors.As(err, &te):
		status, result = http.StatusBadGateway, "The test email was not sent. "+te.Words
	default:
		s.serverError(w, r, err)
		return
	}
	p := s.page(r, "Settings", "settings")
	s.render(w, r, status, s.settingsPageWith(r, p, s.settingsView(views.Form{}), views.Form{}, test, func(ev *views.EmailSettingsView) {
		ev.TestResult, ev.TestOK = result, ok
	}), nil)
}

// --- dev Mailbox ---

// catcher returns the dev mail catcher, or nil outside development (the pages then 404).
func (s *Server) catcher() *mail.Catcher {
	if !s.cfg.Dev {
		return nil
	}
	return s.mailbox
}

var refuseLabels = map[mail.RefuseMode]string{
	mail.RefuseNone:          "Accept every email",
	mail.RefuseTemporary:     "Refuse for now (451 at RCPT TO)",
	mail.RefusePermanent:     "Refuse permanently (550 at RCPT TO)",
	mail.RefuseTemporaryData: "Refuse for now after the data (451)",
	mail.RefusePermanentData: "Refuse permanently after the data (554)",
}

func (s *Server) mailboxPage(w http.ResponseWriter, r *http.Request) {
	c := s.catcher()
	if c == nil {
		s.notFound(w, r)
		return
	}
	refuse, _, _, _ := c.Knobs()
	v := views.MailboxView{SMTPURL: c.URL(), Refuse: refuse.String()}
	for m := mail.RefuseNone; m <= mail.RefusePermanentData; m++ {
		v.Modes = append(v.Modes, views.Option{Value: m.String(), Label: refuseLabels[m]})
	}
	for _, m := range c.Messages() {
		v.Messages = append(v.Messages, views.MailboxRow{ID: m.ID, From: m.Header.Get("From"), To: strings.Join(m.To, ", "), Subject: m.Subject, Received: m.Received})
	}
	p := s.page(r, "Mailbox", "mailbox")
	s.takeFlash(w, r, &p)
	s.render(w, r, http.StatusOK, views.MailboxPage(p, v), nil)
}

func (s *Server) caught(w http.ResponseWriter, r *http.Request) (mail.Caught, bool) {
	c := s.catcher()
	if c == nil {
		s.notFound(w, r)
		return mail.Caught{}, false
	}
	id, err := strconv.Atoi(r.PathValue("id"))
	m, ok := c.Message(id)
	if err != nil || !ok {
		s.errorPage(w, r, http.StatusNotFound, "Email not found", "The mailbox has no email "+r.PathValue("id")+"; it keeps the newest 10,000 until Linkdesk restarts.")
		return m, false
	}
	return m, true
}

func (s *Server) mailboxMessage(w http.ResponseWriter, r *http.Request) {
	m, ok := s.caught(w, r)
	if !ok {
		return
	}
	v := views.MailboxMessage{
		MailboxRow: views.MailboxRow{ID: m.ID, From: m.Header.Get("From"), To: strings.Join(m.To, ", "), Subject: m.Subject, Received: m.Received},
		MessageID:  m.MessageID, Text: m.Text, HasHTML: m.HTML != "",
	}
	s.render(w, r, http.StatusOK, views.MailboxMessagePage(s.page(r, m.Subject, "mailbox"), v), nil)
}

var headOpen = regexp.MustCompile(`(?i)<head[^>]*>`)

// mailboxHTML serves a caught email's HTML version on its own, for the sandboxed frame on the
// message page: its own policy lets the email's inline styles apply but no script, and its
// links open in a new tab (the frame may not navigate to another site).
func (s *Server) mailboxHTML(w http.ResponseWriter, r *http.Request) {
	m, ok := s.caught(w, r)
	if !ok {
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	const base = `<base target="_blank">`
	body := m.HTML
	if loc := headOpen.FindStringIndex(body); loc != nil {
		body = body[:loc[1]] + base + body[loc[1]:]
	} else {
		body = base + body
	}
	io.WriteString(w, body)
}

func (s *Server) mailboxKnobs(w http.ResponseWriter, r *http.Request) {
	c := s.catcher()
	if c == nil {
		s.notFound(w, r)
		return
	}
	if r.PostFormValue("action") == "clear" {
		c.Clear()
		s.flash(w, r, "The mailbox is empty.")
		redirect(w, r, "/dev/mailbox")
		return
	}
	mode, err := mail.ParseRefuseMode(r.PostFormValue("refuse"))
	if err != nil {
		s.errorPage(w, r, http.StatusUnprocessableEntity, "Unknown setting", "Choose how the mail server answers from the list.")
		return
	}
	c.SetRefuse(mode)
	s.flash(w, r, "The mail catcher now answers: "+strings.ToLower(refuseLabels[mode])+".")
	redirect(w, r, "/dev/mailbox")
}
