package inquiry

import (
	"context"
	"html"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
)

// QueueNotice queues a plain notice to a staff member through the outbox (kind "notice": it
// belongs to no inquiry's email log), with its audit entry; key makes it once per key.
func (s *Service) QueueNotice(ctx context.Context, a model.Actor, to, subject, text, key string) error {
	if err := ValidRecipient(to); err != nil {
		return err
	}
	e := db.OutboxEmail{Kind: "notice", Recipient: to, Subject: subject, BodyText: text,
		BodyHTML: "<p>" + strings.ReplaceAll(html.EscapeString(text), "\n", "<br>") + "</p>", QueuedBy: a.ID, RequestKey: key}
	if m := s.mail; m.Sender != nil {
		e.MessageID = m.Sender.NewMessageID()
	}
	if _, err := s.db.AddEmail(ctx, e, audit(a, "email.notice", to, subject, nil)); err != nil {
		return err
	}
	s.wakeWorker()
	return nil
}
