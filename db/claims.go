package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ReferenceClaim is a create in flight for a reference ID: only the request holding it may ask
// Persona for an inquiry for that person.
type ReferenceClaim struct {
	ReferenceID string
	Key         string // the inquiry request's idempotency key
	TemplateID  string
	UserID      int64
	UserName    string
	ClaimedAt   time.Time
}

// ClaimReference claims c.ReferenceID for the request c.Key. The claim is the caller's when the
// reference ID was free, is already held by the same key (a double click or a retry), or is held
// by a claim older than staleBefore (left by a crashed or stuck process): then it is taken over,
// the stale claim is returned as taken, and its request is marked not sent, so that a retry of it
// goes through the duplicate guard again instead of blindly repeating its create. Otherwise the
// claim that holds the reference ID is returned as held.
func (d *DB) ClaimReference(ctx context.Context, c ReferenceClaim, staleBefore time.Time) (held, taken *ReferenceClaim, err error) {
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		held, taken = nil, nil
		res, err := tx.ExecContext(ctx, `INSERT INTO reference_claims (reference_id, idempotency_key, template_id, claimed_by, claimed_by_name, claimed_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (reference_id) DO NOTHING`,
			c.ReferenceID, c.Key, c.TemplateID, nullID(c.UserID), c.UserName, c.ClaimedAt.UnixMilli())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		prev, err := referenceClaim(ctx, tx, c.ReferenceID)
		if err != nil {
			return err
		}
		switch {
		case prev.Key == c.Key:
			return nil
		case prev.ClaimedAt.Before(staleBefore):
			if _, err := tx.ExecContext(ctx, `UPDATE reference_claims SET idempotency_key = ?, template_id = ?, claimed_by = ?, claimed_by_name = ?, claimed_at = ?
				WHERE reference_id = ?`, c.Key, c.TemplateID, nullID(c.UserID), c.UserName, c.ClaimedAt.UnixMilli(), c.ReferenceID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE inquiry_requests SET sent_at = NULL WHERE idempotency_key = ? AND inquiry_id IS NULL`, prev.Key); err != nil {
				return err
			}
			taken = prev
			return nil
		default:
			held = prev
			return nil
		}
	})
	if err != nil {
		return nil, nil, fmt.Errorf("db: claim reference %s: %w", c.ReferenceID, err)
	}
	return held, taken, nil
}

func referenceClaim(ctx context.Context, tx *sql.Tx, ref string) (*ReferenceClaim, error) {
	c := ReferenceClaim{ReferenceID: ref}
	var at int64
	err := tx.QueryRowContext(ctx, `SELECT idempotency_key, template_id, COALESCE(claimed_by, 0), claimed_by_name, claimed_at
		FROM reference_claims WHERE reference_id = ?`, ref).Scan(&c.Key, &c.TemplateID, &c.UserID, &c.UserName, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("claim vanished")
	}
	if err != nil {
		return nil, err
	}
	c.ClaimedAt = time.UnixMilli(at)
	return &c, nil
}

// ReleaseReference gives up the request key's claim on ref, if it still holds it.
func (d *DB) ReleaseReference(ctx context.Context, ref, key string) error {
	if _, err := d.W.ExecContext(ctx, `DELETE FROM reference_claims WHERE reference_id = ? AND idempotency_key = ?`, ref, key); err != nil {
		return fmt.Errorf("db: release reference %s: %w", ref, err)
	}
	return nil
}
