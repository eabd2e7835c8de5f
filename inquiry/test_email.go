package inquiry

import (
	"context"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/mail"
	"github.com/linkdesk/linkdesk/model"
)

// SendTest sends the link email with sample data to recipient at once, through the SMTP
// server, and returns the server's refusal in words (mail.Explain) when it fails.
func (s *Service) SendTest(ctx context.Context, a model.Actor, recipient string) error {
	recipient = strings.TrimSpace(recipient)
	if err := ValidRecipient(recipient); err != nil {
		return err
	}
	m := s.mail
	if m.Sender == nil {
		return ErrMailNotConfigured
	}
	t, err := s.EmailTemplates(ctx)
	if err != nil {
		return err
	}
	p, err := s.PreviewTemplates(a, t)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	err = m.Sender.Send(ctx, mail.Message{To: recipient, Subject: "[Test] " + p.Subject, Text: p.Text, HTML: p.HTML})
	entry := audit(a, "email.test", recipient, "test email through "+m.Sender.Config().Summary(), nil)
	if err != nil {
		entry.Outcome = mail.Explain(err)
		s.log.Warn("test email failed", "to", recipient, "err", err)
	}
	if aerr := s.db.Audit(ctx, entry); aerr != nil {
		s.log.Error("audit test email", "err", aerr)
	}
	if err != nil {
		return &SendTestError{Words: mail.Explain(err), Err: err}
	}
	return nil
}

// SendTestError is a failed test email; Words says what the server answered.
type SendTestError struct {
	Words string
	Err   error
}

func (e *SendTestError) Error() string { return e.Words }
func (e *SendTestError) Unwrap() error { return e.Err }
