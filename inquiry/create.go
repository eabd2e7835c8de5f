package inquiry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
)

// CreateInput is a staff member's request for a new inquiry.
type CreateInput struct {
	TemplateID  string
	ReferenceID string
	Fields      map[string]string // FieldKeys → value; empty values are dropped
	Note        string
	Tags        []string
	// Key is the idempotency key the form carried: a double click or a retried POST repeats
	// the same request instead of creating a second inquiry.
	Key string
	// Confirm creates a new inquiry although this person is already verified or in review (or,
	// with WarnPrior, was declined or failed before).
	Confirm bool
	// CacheGuard lets the duplicate guard decide from the cache alone, without asking Persona:
	// for a caller that has just brought the cache up to date (bulk send after a sync pass).
	// A claim taken over from a crash is still looked up at Persona.
	CacheGuard bool
	// WarnPrior stops with GuardPriorOutcome when the person's last finished inquiry was
	// declined or failed, so staff see who decided and when before trying again. The New
	// inquiry form asks; bulk send keeps its own rule (such rows are created with a notice).
	WarnPrior bool
	// Replace creates a new inquiry although one for the reference ID is open (created or
	// pending): what was typed differs from it (see Differences) and staff chose a new one
	// over handing out that person's link. The open one is left as it is.
	Replace bool
}

// Guard says why no inquiry was created: one for this reference ID needs attention first.
type Guard string

const (
	GuardUseExisting  Guard = "use-existing"  // created: hand out its link instead
	GuardResume       Guard = "resume"        // pending: resume it with a fresh link
	GuardConfirm      Guard = "confirm"       // completed, approved or in review: ask first
	GuardInProgress   Guard = "in-progress"   // another request is creating one right now: try again
	GuardPriorOutcome Guard = "prior-outcome" // declined or failed before (WarnPrior): ask first
)

// PriorOutcome says when and by whom the person's earlier inquiry was declined or failed.
type PriorOutcome struct {
	At time.Time
	By string // the staff member who declined it in Linkdesk; "" when Persona decided
}

// claimTTL is how long a reference claim keeps other creates for the same person away. A
// create gives up after staffTimeout; the margin covers a call Persona was still answering
// then. An older claim was left by a crash and is taken over (see db.ClaimReference).
const claimTTL = staffTimeout + 40*time.Second

// CreateResult is what Create did.
type CreateResult struct {
	Inquiry  *db.Inquiry // the inquiry created (or adopted after a retry)
	Guard    Guard       // set when nothing was created
	Existing *db.Inquiry // the inquiry the guard is about
	// Claim is the other request creating an inquiry for this person (GuardInProgress).
	Claim *db.ReferenceClaim
	// Notice explains a creation that replaced an earlier inquiry (expired, failed, declined).
	Notice string
	// Fresh reports that this call created the inquiry (not an earlier request's): nobody has
	// had its link yet, so the person cannot have started (see SendOnFile).
	Fresh bool
	// Outcome is when and by whom Existing was declined or failed (GuardPriorOutcome).
	Outcome *PriorOutcome
}

// NewKey returns a fresh idempotency key for a form.
func NewKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Create makes a new Persona inquiry unless one for the same reference ID should be used
// instead (Persona's advice: pre-create and reuse). The idempotency key is stored before
// Persona is called, so nothing is created twice after a crash, a timeout or a double click;
// the reference ID is claimed before the guard looks, so two staff members creating for the
// same person at once make one inquiry.
func (s *Service) Create(ctx context.Context, a Actor, in CreateInput) (*CreateResult, error) {
	// Always bounded (even under a caller's longer deadline): claimTTL relies on it.
	ctx, cancel := context.WithTimeout(ctx, staffTimeout)
	defer cancel()
	c, err := s.Client()
	if err != nil {
		return nil, err
	}
	in.ReferenceID = strings.TrimSpace(in.ReferenceID)
	if in.Key == "" {
		in.Key = NewKey()
	}
	params := createParams(in)

	req, err := s.db.BeginInquiryRequest(ctx, db.InquiryRequest{Key: in.Key, ReferenceID: in.ReferenceID, TemplateID: in.TemplateID, Params: params, CreatedBy: a.ID})
	if err != nil {
		return nil, err
	}
	if req.InquiryID != "" {
		// This exact request already succeeded: show its inquiry.
		q, err := s.db.GetInquiry(ctx, req.InquiryID)
		return &CreateResult{Inquiry: q}, err
	}
	retry := req.Sent && req.Params == params
	if req.Params != params {
		// The same form came back with other values (after an error): a new request, which
		// replaces the old one, and its claim if an unclear failure left it behind.
		if in.ReferenceID != "" {
			if err := s.db.ReleaseReference(ctx, in.ReferenceID, in.Key); err != nil {
				return nil, err
			}
		}
		in.Key = NewKey()
		if _, err := s.db.BeginInquiryRequest(ctx, db.InquiryRequest{Key: in.Key, ReferenceID: in.ReferenceID, TemplateID: in.TemplateID, Params: params, CreatedBy: a.ID}); err != nil {
			return nil, err
		}
	}

	// The claim is released on the way out unless Persona may have created the inquiry without
	// our knowing (then it stays, so a retry with this key repeats the call and nobody else
	// creates one meanwhile; past claimTTL it is recovered) or the inquiry was saved, which
	// releases it.
	keepClaim := true
	var taken *db.ReferenceClaim // a claim left behind by a crash, taken over
	defer func() {
		if !keepClaim {
			s.releaseClaim(ctx, in.ReferenceID, in.Key)
		}
	}()
	if in.ReferenceID != "" {
		now := time.Now()
		var held *db.ReferenceClaim
		held, taken, err = s.db.ClaimReference(ctx, db.ReferenceClaim{ReferenceID: in.ReferenceID, Key: in.Key, TemplateID: in.TemplateID,
			UserID: a.ID, UserName: a.Name, ClaimedAt: now}, now.Add(-claimTTL))
		if err != nil {
			return nil, err
		}
		if held != nil {
			return &CreateResult{Guard: GuardInProgress, Claim: held}, nil
		}
		keepClaim = false
		if taken != nil {
			// Its create may have reached Persona before the crash: the guard below looks the
			// reference ID up there and adopts what it finds.
			s.log.Warn("create inquiry: took over a claim left behind", "reference_id", in.ReferenceID,
				"claimed_by", taken.UserName, "claimed_at", taken.ClaimedAt)
		}
		if retry {
			// Read again now that the claim is ours: a takeover of this very request (past
			// claimTTL) sends it through the guard instead, and a twin may have finished it.
			if req, err = s.db.BeginInquiryRequest(ctx, db.InquiryRequest{Key: in.Key, ReferenceID: in.ReferenceID, TemplateID: in.TemplateID, Params: params, CreatedBy: a.ID}); err != nil {
				return nil, err
			}
			if req.InquiryID != "" {
				q, err := s.db.GetInquiry(ctx, req.InquiryID)
				return &CreateResult{Inquiry: q}, err
			}
			retry = req.Sent
		}
	}

	var notice string
	askPersona := !in.CacheGuard || taken != nil
	// A retry of a request Persona may have seen repeats it with the same key: Persona answers
	// with the inquiry it created then, or creates it now if the first call never arrived.
	if in.ReferenceID != "" && !retry {
		all, err := s.forReference(ctx, c, in.ReferenceID, askPersona)
		if err != nil {
			return nil, err
		}
		if len(all) > 0 {
			existing := &all[0]
			switch {
			case in.Replace && (existing.Status == model.Created || existing.Status == model.Pending):
				notice = fmt.Sprintf("Created although %s's inquiry %s is open: the details typed differ from it, and you chose a new one.", in.ReferenceID, existing.ID)
			case existing.Status == model.Created:
				return &CreateResult{Guard: GuardUseExisting, Existing: existing}, nil
			case existing.Status == model.Pending:
				return &CreateResult{Guard: GuardResume, Existing: existing}, nil
			case existing.Status == model.Completed, existing.Status == model.Approved, existing.Status == model.NeedsReview:
				if !in.Confirm {
					return &CreateResult{Guard: GuardConfirm, Existing: existing}, nil
				}
				notice = fmt.Sprintf("Created although %s's inquiry %s is %s, as you confirmed.", in.ReferenceID, existing.ID, StatusWords(existing.Status))
			default: // expired, failed, declined, or a status we do not know
				// An expired inquiry may follow a decline: the decline is what staff must see.
				if prior := lastRefused(all); prior != nil && in.WarnPrior {
					if !in.Confirm {
						o, err := s.priorOutcome(ctx, prior)
						if err != nil {
							return nil, err
						}
						return &CreateResult{Guard: GuardPriorOutcome, Existing: prior, Outcome: o}, nil
					}
					ended := "was declined"
					if prior.Status == model.Failed {
						ended = "failed verification"
					}
					notice = fmt.Sprintf("Created although %s's inquiry %s %s, as you confirmed.", in.ReferenceID, prior.ID, ended)
					break
				}
				notice = fmt.Sprintf("%s's previous inquiry %s is %s, so this is a new one.", in.ReferenceID, existing.ID, StatusWords(existing.Status))
			}
		}
	}

	if err := s.db.MarkInquiryRequestSent(ctx, in.Key); err != nil {
		return nil, err
	}
	p, err := c.CreateInquiry(ctx, persona.CreateInquiryParams{
		TemplateID: in.TemplateID, ReferenceID: in.ReferenceID, Fields: in.Fields,
		Note: strings.TrimSpace(in.Note), Tags: in.Tags, IdempotencyKey: in.Key,
	})
	if err != nil {
		// Refused: nothing was created, so the next try (anyone's) may go ahead.
		keepClaim = !persona.IsRefused(err)
		s.auditFailure(ctx, a.audit("inquiry.create", in.ReferenceID, "template "+in.TemplateID, err))
		return nil, err
	}
	keepClaim = true // FinishInquiryRequest releases it with the saved row, or a crash leaves it
	row := fromPersona(p, time.Time{})
	row.CreatedBy = a.ID
	detail := "template " + in.TemplateID
	if notice != "" {
		detail += "; " + notice
	}
	if err := s.db.FinishInquiryRequest(ctx, in.Key, row, a.audit("inquiry.create", row.ID, detail, nil)); err != nil {
		return nil, err
	}
	s.changed(row.ID)
	if model.LinkFor(row.Status) == model.LinkInquiry {
		if _, err := s.issue(ctx, a, &row, db.Link{InquiryID: row.ID, Kind: "inquiry", URL: s.inquiryURL(row.ID), ExpiresAt: row.ExpiresAt}); err != nil {
			return nil, err
		}
	}
	q, err := s.db.GetInquiry(ctx, row.ID)
	return &CreateResult{Inquiry: q, Notice: notice, Fresh: true}, err
}

// releaseClaim gives up the request's claim on its reference ID. It runs on the way out, often
// after the request's context ended, so it uses a context of its own; a failure is logged (the
// claim then expires after claimTTL).
func (s *Service) releaseClaim(ctx context.Context, ref, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.db.ReleaseReference(ctx, ref, key); err != nil {
		s.log.Error("create inquiry: release reference claim", "reference_id", ref, "err", err)
	}
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

// createParams is the canonical form of what a request sends, to tell a retry (same) from an
// edited form (different).
func createParams(in CreateInput) string {
	keys := make([]string, 0, len(in.Fields))
	for k, v := range in.Fields {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	fields := make([][2]string, len(keys))
	for i, k := range keys {
		fields[i] = [2]string{k, in.Fields[k]}
	}
	b, _ := json.Marshal(struct {
		T, R, N string
		F       [][2]string
		G       []string
	}{in.TemplateID, in.ReferenceID, strings.TrimSpace(in.Note), fields, in.Tags})
	return string(b)
}

// StatusWords says a status in plain words.
func StatusWords(status model.Status) string {
	switch status {
	case model.NeedsReview:
		return "waiting for review"
	case model.Created:
		return "not started yet"
	case model.Pending:
		return "started but not finished"
	}
	return string(status)
}

// IsPersonaError reports whether err came from Persona (as opposed to the console itself).
func IsPersonaError(err error) bool {
	var apiErr *persona.APIError
	return errors.As(err, &apiErr) || persona.IsUnavailable(err) || errors.Is(err, ErrNotConfigured)
}
