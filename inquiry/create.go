package inquiry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
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
	// WarnPrior stops with model.GuardPriorOutcome when the person's last finished inquiry was
	// declined or failed, so staff see who decided and when before trying again. The New
	// inquiry form asks; bulk send keeps its own rule (such rows are created with a notice).
	WarnPrior bool
	// Replace creates a new inquiry although one for the reference ID is open (created or
	// pending): what was typed differs from it (see Differences) and staff chose a new one
	// over handing out that person's link. The open one is left as it is.
	Replace bool
}

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
	Guard    model.Guard // set when nothing was created
	Existing *db.Inquiry // the inquiry the guard is about
	// Claim is the other request creating an inquiry for this person (model.GuardInProgress).
	Claim *db.ReferenceClaim
	// Notice explains a creation that replaced an earlier inquiry (expired, failed, declined).
	Notice string
	// Fresh reports that this call created the inquiry (not an earlier request's): nobody has
	// had its link yet, so the person cannot have started (see SendOnFile).
	Fresh bool
	// Outcome is when and by whom Existing was declined or failed (model.GuardPriorOutcome).
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
// same person at once make one inquiry. Each step returns a result when it ends the call.
func (s *Service) Create(ctx context.Context, a model.Actor, in CreateInput) (*CreateResult, error) {
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
	cr := &creating{a: a, in: in, params: createParams(in)}
	if res, err := s.beginRequest(ctx, cr); res != nil || err != nil {
		return res, err
	}
	defer func() {
		if cr.holdsClaim {
			s.releaseClaim(ctx, cr.in.ReferenceID, cr.in.Key)
		}
	}()
	if res, err := s.claimReference(ctx, cr); res != nil || err != nil {
		return res, err
	}
	notice, res, err := s.guard(ctx, c, cr)
	if res != nil || err != nil {
		return res, err
	}
	return s.createAtPersona(ctx, c, cr, notice)
}

// creating is one Create call on its way: the request, and what its steps found.
type creating struct {
	a      model.Actor
	in     CreateInput
	params string // createParams(in): tells a retry from an edited form
	// retry: Persona may have seen this very request, so it is repeated with its key (Persona
	// answers with the inquiry it created then, or creates it now) and the guard is skipped.
	retry bool
	// holdsClaim: this call holds the reference claim and gives it up on the way out. It is
	// kept when Persona may have created the inquiry without our knowing (a retry with this key
	// repeats the call and nobody else creates one meanwhile; past claimTTL it is recovered),
	// and when the inquiry was saved, which releases it.
	holdsClaim bool
	taken      *db.ReferenceClaim // a claim left behind by a crash, taken over
}

func (cr *creating) request() db.InquiryRequest {
	return db.InquiryRequest{Key: cr.in.Key, ReferenceID: cr.in.ReferenceID, TemplateID: cr.in.TemplateID, Params: cr.params, CreatedBy: cr.a.ID}
}

// beginRequest stores the request under its idempotency key before anything else. An earlier
// request with this key that succeeded ends the call with its inquiry; one with other values
// (the same form back after an error) is replaced by a new request with a new key.
func (s *Service) beginRequest(ctx context.Context, cr *creating) (*CreateResult, error) {
	req, err := s.db.BeginInquiryRequest(ctx, cr.request())
	if err != nil {
		return nil, err
	}
	if req.InquiryID != "" {
		return s.created(ctx, req.InquiryID)
	}
	if req.Params == cr.params {
		cr.retry = req.Sent
		return nil, nil
	}
	// Also release the old request's claim, if an unclear failure left it behind.
	if cr.in.ReferenceID != "" {
		if err := s.db.ReleaseReference(ctx, cr.in.ReferenceID, cr.in.Key); err != nil {
			return nil, err
		}
	}
	cr.in.Key = NewKey()
	_, err = s.db.BeginInquiryRequest(ctx, cr.request())
	return nil, err
}

// claimReference claims the reference ID for this request, so no other create for the person
// runs meanwhile: another request holding it ends the call with model.GuardInProgress.
func (s *Service) claimReference(ctx context.Context, cr *creating) (*CreateResult, error) {
	ref := cr.in.ReferenceID
	if ref == "" {
		return nil, nil
	}
	now := time.Now()
	held, taken, err := s.db.ClaimReference(ctx, db.ReferenceClaim{ReferenceID: ref, Key: cr.in.Key, TemplateID: cr.in.TemplateID,
		UserID: cr.a.ID, UserName: cr.a.Name, ClaimedAt: now}, now.Add(-claimTTL))
	if err != nil {
		return nil, err
	}
	if held != nil {
		return &CreateResult{Guard: model.GuardInProgress, Claim: held}, nil
	}
	cr.holdsClaim, cr.taken = true, taken
	if taken != nil {
		// Its create may have reached Persona before the crash: the guard looks the reference
		// ID up there and adopts what it finds.
		s.log.Warn("create inquiry: took over a claim left behind", "reference_id", ref,
			"claimed_by", taken.UserName, "claimed_at", taken.ClaimedAt)
	}
	if !cr.retry {
		return nil, nil
	}
	// Read again now that the claim is ours: a takeover of this very request (past claimTTL)
	// sends it through the guard instead, and a twin may have finished it.
	req, err := s.db.BeginInquiryRequest(ctx, cr.request())
	if err != nil {
		return nil, err
	}
	if req.InquiryID != "" {
		return s.created(ctx, req.InquiryID)
	}
	cr.retry = req.Sent
	return nil, nil
}

// createAtPersona marks the request sent, calls Persona with its key, then saves the inquiry
// with its audit entry (releasing the claim) and issues the inquiry link its status calls for.
func (s *Service) createAtPersona(ctx context.Context, c *persona.Client, cr *creating, notice string) (*CreateResult, error) {
	a, in := cr.a, cr.in
	if err := s.db.MarkInquiryRequestSent(ctx, in.Key); err != nil {
		return nil, err
	}
	p, err := c.CreateInquiry(ctx, persona.CreateInquiryParams{
		TemplateID: in.TemplateID, ReferenceID: in.ReferenceID, Fields: in.Fields,
		Note: strings.TrimSpace(in.Note), Tags: in.Tags, IdempotencyKey: in.Key,
	})
	if err != nil {
		// Refused: nothing was created, so the next try (anyone's) may go ahead.
		cr.holdsClaim = cr.holdsClaim && persona.IsRefused(err)
		s.auditFailure(ctx, audit(a, "inquiry.create", in.ReferenceID, "template "+in.TemplateID, err))
		return nil, err
	}
	cr.holdsClaim = false // FinishInquiryRequest releases it with the saved row, or a crash leaves it
	row := fromPersona(p, time.Time{})
	row.CreatedBy = a.ID
	detail := "template " + in.TemplateID
	if notice != "" {
		detail += "; " + notice
	}
	if err := s.db.FinishInquiryRequest(ctx, in.Key, row, audit(a, "inquiry.create", row.ID, detail, nil)); err != nil {
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

// created is the result of a request that already succeeded: its inquiry.
func (s *Service) created(ctx context.Context, id string) (*CreateResult, error) {
	q, err := s.db.GetInquiry(ctx, id)
	return &CreateResult{Inquiry: q}, err
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

// IsPersonaError reports whether err came from Persona (as opposed to the console itself).
func IsPersonaError(err error) bool {
	var apiErr *persona.APIError
	return errors.As(err, &apiErr) || persona.IsUnavailable(err) || errors.Is(err, ErrNotConfigured)
}
