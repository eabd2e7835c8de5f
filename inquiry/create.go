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
	// Confirm creates a new inquiry although this person is already verified or in review.
	Confirm bool
}

// Guard says why no inquiry was created: one for this reference ID needs attention first.
type Guard string

const (
	GuardUseExisting Guard = "use-existing" // created: hand out its link instead
	GuardResume      Guard = "resume"       // pending: resume it with a fresh link
	GuardConfirm     Guard = "confirm"      // completed, approved or in review: ask first
)

// CreateResult is what Create did.
type CreateResult struct {
	Inquiry  *db.Inquiry // the inquiry created (or adopted after a retry)
	Guard    Guard       // set when nothing was created
	Existing *db.Inquiry // the inquiry the guard is about
	// Notice explains a creation that replaced an earlier inquiry (expired, failed, declined).
	Notice string
}

// NewKey returns a fresh idempotency key for a form.
func NewKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Create makes a new Persona inquiry unless one for the same reference ID should be used
// instead (Persona's advice: pre-create and reuse). The idempotency key is stored before
// Persona is called, so nothing is created twice after a crash, a timeout or a double click.
func (s *Service) Create(ctx context.Context, a Actor, in CreateInput) (*CreateResult, error) {
	ctx, cancel := staffCtx(ctx)
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
		// The same form came back with other values (after an error): a new request.
		in.Key = NewKey()
		if _, err := s.db.BeginInquiryRequest(ctx, db.InquiryRequest{Key: in.Key, ReferenceID: in.ReferenceID, TemplateID: in.TemplateID, Params: params, CreatedBy: a.ID}); err != nil {
			return nil, err
		}
	}

	var notice string
	// A retry of a request Persona may have seen repeats it with the same key: Persona answers
	// with the inquiry it created then, or creates it now if the first call never arrived.
	if in.ReferenceID != "" && !retry {
		existing, err := s.newestForReference(ctx, c, in.ReferenceID)
		if err != nil {
			return nil, err
		}
		if existing != nil {
			switch existing.Status {
			case "created":
				return &CreateResult{Guard: GuardUseExisting, Existing: existing}, nil
			case "pending":
				return &CreateResult{Guard: GuardResume, Existing: existing}, nil
			case "completed", "approved", "needs_review":
				if !in.Confirm {
					return &CreateResult{Guard: GuardConfirm, Existing: existing}, nil
				}
				notice = fmt.Sprintf("Created although %s's inquiry %s is %s, as you confirmed.", in.ReferenceID, existing.ID, statusWords(existing.Status))
			default: // expired, failed, declined, or a status we do not know
				notice = fmt.Sprintf("%s's previous inquiry %s is %s, so this is a new one.", in.ReferenceID, existing.ID, statusWords(existing.Status))
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
		s.auditFailure(ctx, a.audit("inquiry.create", in.ReferenceID, "template "+in.TemplateID, err))
		return nil, err
	}
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
	if row.Status == "created" {
		if _, err := s.issue(ctx, a, &row, db.Link{InquiryID: row.ID, Kind: "inquiry", URL: s.inquiryURL(row.ID), ExpiresAt: row.ExpiresAt}); err != nil {
			return nil, err
		}
	}
	q, err := s.db.GetInquiry(ctx, row.ID)
	return &CreateResult{Inquiry: q, Notice: notice}, err
}

// newestForReference finds the reference ID's newest inquiry: in the cache, and at Persona
// (which also knows inquiries created elsewhere, or by a request whose answer we never saved).
// Persona's answers are adopted into the cache.
func (s *Service) newestForReference(ctx context.Context, c *persona.Client, ref string) (*db.Inquiry, error) {
	cached, err := s.db.InquiriesByReference(ctx, ref)
	if err != nil {
		return nil, err
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
	if len(cached) == 0 {
		return nil, nil
	}
	return &cached[0], nil
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

// statusWords says a status in plain words.
func statusWords(status string) string {
	switch status {
	case "needs_review":
		return "waiting for review"
	case "created":
		return "not started yet"
	case "pending":
		return "started but not finished"
	}
	return status
}

// IsPersonaError reports whether err came from Persona (as opposed to the console itself).
func IsPersonaError(err error) bool {
	var apiErr *persona.APIError
	return errors.As(err, &apiErr) || persona.IsUnavailable(err) || errors.Is(err, ErrNotConfigured)
}
