package inquiry

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
)

// ErrBadTag is a tag the console does not send to Persona.
//
//lint:ignore ST1005 shown to people
var ErrBadTag = errors.New("Tags may use letters, digits, spaces and - _ . : / (up to 64 characters each)")

// ValidTag reports whether a tag may be added, by the New inquiry form's rule.
func ValidTag(tag string) bool { return tagRe.MatchString(strings.TrimSpace(tag)) }

// AddTag adds a tag to the inquiry at Persona and caches the answer with its audit entry.
// requestKey is the form's key: the same key again reuses the stored Idempotency-Key.
func (s *Service) AddTag(ctx context.Context, a model.Actor, id, tag, requestKey string) (*db.Inquiry, error) {
	tag = strings.TrimSpace(tag)
	if !ValidTag(tag) {
		return nil, ErrBadTag
	}
	ctx, cancel := staffCtx(ctx)
	defer cancel()
	c, err := s.Client()
	if err != nil {
		return nil, err
	}
	var p *persona.Inquiry
	err = s.keyedAction(ctx, id, "add-tag", requestKey, tag, func(ctx context.Context) (err error) {
		p, err = c.AddInquiryTag(ctx, id, tag)
		return err
	})
	if err != nil {
		s.auditFailure(ctx, audit(a, "inquiry.tag", id, tag, err))
		return nil, err
	}
	return s.store(ctx, p, time.Time{}, audit(a, "inquiry.tag", id, tag, nil))
}
