package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// InquiryRequestParams returns the parameters of the create request that made the inquiry
// (what staff entered in the New inquiry form), or ErrNotFound for an inquiry created
// elsewhere.
func (d *DB) InquiryRequestParams(ctx context.Context, inquiryID string) (string, error) {
	var params string
	err := d.R.QueryRowContext(ctx, `SELECT params FROM inquiry_requests WHERE inquiry_id = ? ORDER BY created_at LIMIT 1`, inquiryID).Scan(&params)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("db: inquiry request of %s: %w", inquiryID, err)
	}
	return params, nil
}

// InquiryRequest is a create request whose idempotency key was stored before Persona was called.
type InquiryRequest struct {
	Key         string
	ReferenceID string
	TemplateID  string
	Params      string
	InquiryID   string
	CreatedBy   int64
	CreatedAt   time.Time
	Sent        bool // Persona was (or may have been) called with this key
}

// BeginInquiryRequest stores the key with its parameters. If the key exists already (a double
// click or a retried POST) it returns the stored request instead, so the caller repeats that one.
func (d *DB) BeginInquiryRequest(ctx context.Context, r InquiryRequest) (*InquiryRequest, error) {
	_, err := d.W.ExecContext(ctx, `INSERT INTO inquiry_requests (idempotency_key, reference_id, template_id, params, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
		r.Key, r.ReferenceID, r.TemplateID, r.Params, nullID(r.CreatedBy), Now())
	if err != nil {
		return nil, fmt.Errorf("db: begin inquiry request: %w", err)
	}
	var out InquiryRequest
	var inq sql.NullString
	var created int64
	err = d.W.QueryRowContext(ctx, `SELECT idempotency_key, reference_id, template_id, params, inquiry_id, COALESCE(created_by, 0), created_at, sent_at IS NOT NULL
		FROM inquiry_requests WHERE idempotency_key = ?`, r.Key).Scan(&out.Key, &out.ReferenceID, &out.TemplateID, &out.Params, &inq, &out.CreatedBy, &created, &out.Sent)
	if err != nil {
		return nil, fmt.Errorf("db: begin inquiry request: %w", err)
	}
	out.InquiryID, out.CreatedAt = inq.String, time.UnixMilli(created)
	return &out, nil
}

// MarkInquiryRequestSent records that Persona is about to be called with the key: from now on
// a retry must repeat the call with the same key rather than decide afresh.
func (d *DB) MarkInquiryRequestSent(ctx context.Context, key string) error {
	if _, err := d.W.ExecContext(ctx, `UPDATE inquiry_requests SET sent_at = ? WHERE idempotency_key = ?`, Now(), key); err != nil {
		return fmt.Errorf("db: mark inquiry request sent: %w", err)
	}
	return nil
}

// FinishInquiryRequest saves the created inquiry, links it to its request, releases the
// request's reference claim and audits it, in one transaction.
func (d *DB) FinishInquiryRequest(ctx context.Context, key string, q Inquiry, audit AuditEntry) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := UpsertInquiry(ctx, tx, q); err != nil {
			return err
		}
		// A webhook may have cached the inquiry first with a newer version, so the upsert above
		// wrote nothing: who created it is still ours to record.
		if _, err := tx.ExecContext(ctx, `UPDATE inquiries SET created_by = ? WHERE id = ? AND created_by IS NULL`, nullID(q.CreatedBy), q.ID); err != nil {
			return fmt.Errorf("db: finish inquiry request: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE inquiry_requests SET inquiry_id = ? WHERE idempotency_key = ?`, q.ID, key); err != nil {
			return fmt.Errorf("db: finish inquiry request: %w", err)
		}
		// The inquiry is cached now, so the duplicate guard sees it: the claim has done its work.
		if _, err := tx.ExecContext(ctx, `DELETE FROM reference_claims WHERE idempotency_key = ?`, key); err != nil {
			return fmt.Errorf("db: finish inquiry request: %w", err)
		}
		return AddAudit(ctx, tx, audit)
	})
}

// --- links ---
