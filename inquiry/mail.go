package inquiry

import (
	"errors"

	"github.com/linkdesk/linkdesk/mail"
)

// MailSetup is how the service reaches the mail side. Either part may be nil: without a Sender
// emails wait in the outbox.
type MailSetup struct {
	Sender *mail.Sender // the company's SMTP relay
	Worker *mail.Worker // woken after an email is queued
}

// MailStatus describes the mail settings for the pages, without the password.
type MailStatus struct {
	Configured bool
	Summary    string // "smtp.example.com:587, STARTTLS required, signing in as mailer"
	From       string
	ReplyTo    string
}

// ErrMailNotConfigured means no SMTP server is set: emails wait in the outbox.
var ErrMailNotConfigured = errors.New("no mail server is configured: an admin must set LINKDESK_SMTP_URL and LINKDESK_MAIL_FROM and restart Linkdesk; until then emails wait in the outbox")

// MailStatus reports whether emails can leave and through which server.
func (s *Service) MailStatus() MailStatus {
	m := s.mail
	if m.Sender == nil {
		return MailStatus{}
	}
	c := m.Sender.Config()
	return MailStatus{Configured: true, Summary: c.Summary(), From: c.From, ReplyTo: c.ReplyTo}
}

// emailChanged tells the change listeners that an email of the inquiry moved, so open pages
// refresh (the worker tells the same listeners itself). Emails of no inquiry change no page.
func (s *Service) emailChanged(inquiryID string) {
	if inquiryID != "" {
		s.changed(inquiryID)
	}
}

func (s *Service) wakeWorker() {
	if w := s.mail.Worker; w != nil {
		w.Wake()
	}
}
