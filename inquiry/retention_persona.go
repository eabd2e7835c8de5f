package inquiry

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
)

const keyRetentionPersona = "retention.persona"

// RetentionAtPersona says whether the rule also asks Persona to redact each inquiry.
func (s *Service) RetentionAtPersona(ctx context.Context) (bool, error) {
	v, err := s.db.Setting(ctx, keyRetentionPersona)
	if errors.Is(err, db.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	on, _ := strconv.ParseBool(v)
	return on, nil
}

// redactAtPersona asks Persona to delete the inquiry's personal data too (DELETE
// /inquiries/{id}); one Persona already redacted counts as done. A failure is audited.
func (s *Service) redactAtPersona(ctx context.Context, a model.Actor, id string) error {
	c, err := s.Client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	p, err := c.RedactInquiry(ctx, id)
	var apiErr *persona.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusConflict {
		return nil // already redacted
	}
	if err != nil {
		s.auditFailure(ctx, audit(a, "inquiry.redact", id, "asked Persona to redact the inquiry (data retention)", err))
		return err
	}
	_, err = s.store(ctx, p, time.Time{}, audit(a, "inquiry.redact", id, "Persona redacted the inquiry (data retention)", nil))
	return err
}
