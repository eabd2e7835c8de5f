package inquiry

import (
	"context"
	"fmt"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
)

// --- staff actions on the outbox ---

func (s *Service) emailTarget(ctx context.Context, id int64) (db.OutboxEmail, string, error) {
	e, err := s.db.GetEmail(ctx, id)
	if err != nil {
		return e, "", err
	}
	target := e.InquiryID
	if target == "" {
		target = e.Recipient
	}
	return e, target, nil
}

// RetryEmail queues a failed email again, with a fresh count of attempts. It returns the
// email; db.ErrEmailState when it is not failed.
func (s *Service) RetryEmail(ctx context.Context, a model.Actor, id int64) (db.OutboxEmail, error) {
	e, target, err := s.emailTarget(ctx, id)
	if err != nil {
		return e, err
	}
	detail := fmt.Sprintf("%s email %d to %s", e.Kind, id, e.Recipient)
	if err := s.db.RetryEmail(ctx, id, audit(a, "email.retry", target, detail, nil)); err != nil {
		return e, err
	}
	s.wakeWorker()
	s.emailChanged(e.InquiryID)
	return e, nil
}

// CancelEmail stops a queued email from being sent. It returns the email; db.ErrEmailState
// when it is no longer queued (it may be on its way already).
func (s *Service) CancelEmail(ctx context.Context, a model.Actor, id int64) (db.OutboxEmail, error) {
	e, target, err := s.emailTarget(ctx, id)
	if err != nil {
		return e, err
	}
	detail := fmt.Sprintf("%s email %d to %s", e.Kind, id, e.Recipient)
	if err := s.db.CancelEmail(ctx, id, audit(a, "email.cancel", target, detail, nil)); err != nil {
		return e, err
	}
	s.emailChanged(e.InquiryID)
	return e, nil
}
