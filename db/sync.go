// Queries of the reconciler: which inquiries are open, and storing what a sync fetched.

package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/linkdesk/linkdesk/model"
)

// OpenInquiries returns the ids of cached inquiries Persona may still change
// (model.Status.MayChange; an unknown status counts), oldest first, with the oldest one's creation time.
func (d *DB) OpenInquiries(ctx context.Context) (ids []string, oldest time.Time, err error) {
	// The counts table names every status present, so the IN list can use the status index.
	rows, err := d.R.QueryContext(ctx, `SELECT DISTINCT status FROM inquiry_counts WHERE n > 0`)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("db: open inquiries: %w", err)
	}
	var open []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, time.Time{}, fmt.Errorf("db: open inquiries: %w", err)
		}
		if model.Status(s).MayChange() {
			open = append(open, s)
		}
	}
	rows.Close()
	if len(open) == 0 {
		return nil, time.Time{}, nil
	}
	rows, err = d.R.QueryContext(ctx, `SELECT id, created_at FROM inquiries WHERE status IN (`+placeholders(len(open))+`) ORDER BY created_at`, anys(open)...)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("db: open inquiries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			return nil, time.Time{}, fmt.Errorf("db: open inquiries: %w", err)
		}
		if len(ids) == 0 {
			oldest = time.UnixMilli(at)
		}
		ids = append(ids, id)
	}
	return ids, oldest, rows.Err()
}

// SaveSynced stores rows fetched from Persona in one transaction, each only if newer than the
// cached one (UpsertInquiry's freshness rule), and marks them all synced at at. It returns the ids that changed and, among
// them, those the cache did not know.
func (d *DB) SaveSynced(ctx context.Context, rows []Inquiry, at time.Time) (changed, discovered []string, err error) {
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		changed, discovered = changed[:0], discovered[:0]
		for _, r := range rows {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM inquiries WHERE id = ?`, r.ID).Scan(&one)
			known := err == nil
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("db: save synced %s: %w", r.ID, err)
			}
			r.SyncedAt = at
			// Nothing new (the same version again) writes nothing: only the sync time moves.
			ok, err := UpsertInquiry(ctx, d.upserting(tx), r)
			if err != nil {
				return err
			}
			if ok {
				changed = append(changed, r.ID)
				if !known {
					discovered = append(discovered, r.ID)
				}
			} else if _, err := tx.ExecContext(ctx, `UPDATE inquiries SET synced_at = ? WHERE id = ?`, at.UnixMilli(), r.ID); err != nil {
				return fmt.Errorf("db: save synced %s: %w", r.ID, err)
			}
		}
		return nil
	})
	return changed, discovered, err
}
