package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/linkdesk/linkdesk/mail"
	"github.com/linkdesk/linkdesk/views"
)

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

// mailboxHTML serves a caught email's HTML version on its own, for the sandboxed frame on the
// message page: its own policy lets the email's inline styles apply but no script, and its
// links open in a new tab (the frame may not navigate to another site).
func (s *Server) mailboxHTML(w http.ResponseWriter, r *http.Request) {
	m, ok := s.caught(w, r)
	if !ok {
		return
	}
	writeEmailDocument(w, http.StatusOK, m.HTML)
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
