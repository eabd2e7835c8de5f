package inquiry

import (
	"context"
	"fmt"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
)

// guard is Create's duplicate guard: it looks up the reference ID's inquiries (in the cache
// alone for CacheGuard, unless a claim was taken over from a crash) and either ends the call
// with a Guard about the newest, or lets it go ahead with a notice saying what it replaces.
// A retry skips it: the request is repeated with its key.
func (s *Service) guard(ctx context.Context, c *persona.Client, cr *creating) (notice string, stop *CreateResult, err error) {
	in := cr.in
	if in.ReferenceID == "" || cr.retry {
		return "", nil, nil
	}
	all, err := s.forReference(ctx, c, in.ReferenceID, !in.CacheGuard || cr.taken != nil)
	if err != nil || len(all) == 0 {
		return "", nil, err
	}
	existing := &all[0]
	switch {
	case in.Replace && existing.Status.PersonHasWork():
		return fmt.Sprintf("Created although %s's inquiry %s is open: the details typed differ from it, and you chose a new one.", in.ReferenceID, existing.ID), nil, nil
	case existing.Status == model.Created:
		return "", &CreateResult{Guard: model.GuardUseExisting, Existing: existing}, nil
	case existing.Status == model.Pending:
		return "", &CreateResult{Guard: model.GuardResume, Existing: existing}, nil
	case existing.Status == model.Completed, existing.Status == model.Approved, existing.Status == model.NeedsReview:
		if !in.Confirm {
			return "", &CreateResult{Guard: model.GuardConfirm, Existing: existing}, nil
		}
		return fmt.Sprintf("Created although %s's inquiry %s is %s, as you confirmed.", in.ReferenceID, existing.ID, existing.Status.Phrase()), nil, nil
	}
	// Expired, failed, declined, or a status we do not know. An expired inquiry may follow a
	// decline: the decline is what staff must see.
	if prior := lastRefused(all); prior != nil && in.WarnPrior {
		if !in.Confirm {
			o, err := s.priorOutcome(ctx, prior)
			if err != nil {
				return "", nil, err
			}
			return "", &CreateResult{Guard: model.GuardPriorOutcome, Existing: prior, Outcome: o}, nil
		}
		ended := "was declined"
		if prior.Status == model.Failed {
			ended = "failed verification"
		}
		return fmt.Sprintf("Created although %s's inquiry %s %s, as you confirmed.", in.ReferenceID, prior.ID, ended), nil, nil
	}
	return fmt.Sprintf("%s's previous inquiry %s is %s, so this is a new one.", in.ReferenceID, existing.ID, existing.Status.Phrase()), nil, nil
}

// lastRefused is the declined or failed inquiry among qs (newest first) that only expired
// ones followed, or nil: a later outcome of any other kind says more about the person.
func lastRefused(qs []db.Inquiry) *db.Inquiry {
	for i := range qs {
		switch qs[i].Status {
		case model.Declined, model.Failed:
			return &qs[i]
		case model.Expired:
			continue
		}
		return nil
	}
	return nil
}

// priorOutcome finds when and by whom q was declined or failed: a decline made in Linkdesk is
// in the audit log with its staff member; otherwise Persona decided (a workflow, a failed
// verification, its dashboard), at the time it reported.
func (s *Service) priorOutcome(ctx context.Context, q *db.Inquiry) (*PriorOutcome, error) {
	o := &PriorOutcome{At: q.FailedAt}
	event := "inquiry.failed"
	if q.Status == model.Declined {
		o.At, event = q.DecidedAt, "inquiry.declined"
		es, err := s.db.ListAudit(ctx, db.AuditFilter{Target: q.ID, Action: "inquiry.decline", Limit: 10})
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			if e.Outcome == "ok" && e.UserID != 0 {
				return &PriorOutcome{At: e.At, By: e.Actor}, nil
			}
		}
	}
	if o.At.IsZero() {
		evs, err := s.db.InquiryWebhookEvents(ctx, q.ID, 50)
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			if ev.Name == event {
				o.At = ev.EventAt
				break
			}
		}
	}
	if o.At.IsZero() {
		o.At = q.UpdatedAt
	}
	return o, nil
}

// forReference finds the reference ID's inquiries, newest first: in the cache, and at Persona
// (which also knows inquiries created elsewhere, or by a request whose answer we never saved).
// Persona's answers are adopted into the cache. Without askPersona the cache alone answers.
func (s *Service) forReference(ctx context.Context, c *persona.Client, ref string, askPersona bool) ([]db.Inquiry, error) {
	cached, err := s.db.InquiriesByReference(ctx, ref)
	if err != nil || !askPersona {
		return cached, err
	}
	page, err := c.ListInquiries(ctx, persona.ListInquiriesParams{ReferenceID: ref, PageSize: 10})
	if err != nil {
		return nil, fmt.Errorf("look up %s's inquiries at Persona: %w", ref, err)
	}
	for _, p := range page.Inquiries {
		if _, err := s.store(ctx, p, time.Time{}, db.AuditEntry{}); err != nil {
			return nil, err
		}
	}
	if len(page.Inquiries) > 0 || len(cached) > 0 {
		cached, err = s.db.InquiriesByReference(ctx, ref)
		if err != nil {
			return nil, err
		}
	}
	return cached, nil
}
