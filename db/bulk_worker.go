package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// One bulk worker per database at a time: the console's and a `linkdesk bulk` share Persona's
// rate limit, and two of them working at once each spent the whole of it (429s, delayed
// creates). The claim is a settings row, "<owner> <until ms>", renewed by its holder.
const bulkWorkerKey = "bulk_worker"

// ClaimBulkWorker makes owner the database's bulk worker until now+ttl, unless another
// owner's claim still stands: then ok is false and until is when that claim ends.
func (d *DB) ClaimBulkWorker(ctx context.Context, owner string, now time.Time, ttl time.Duration) (ok bool, until time.Time, err error) {
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		var v string
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, bulkWorkerKey).Scan(&v)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if holder, end := parseWorkerClaim(v); holder != "" && holder != owner && end.After(now) {
			until = end
			return nil
		}
		ok = true
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
			bulkWorkerKey, fmt.Sprintf("%s %d", owner, now.Add(ttl).UnixMilli()))
		return err
	})
	if err != nil {
		return false, time.Time{}, fmt.Errorf("db: claim bulk worker: %w", err)
	}
	return ok, until, nil
}

// BulkWorker returns the standing claim's owner and end ("" when there is none).
func (d *DB) BulkWorker(ctx context.Context, now time.Time) (string, time.Time, error) {
	var v string
	err := d.R.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, bulkWorkerKey).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, fmt.Errorf("db: bulk worker: %w", err)
	}
	holder, end := parseWorkerClaim(v)
	if !end.After(now) {
		return "", time.Time{}, nil
	}
	return holder, end, nil
}

// ReleaseBulkWorker ends owner's claim, if it holds one.
func (d *DB) ReleaseBulkWorker(ctx context.Context, owner string) error {
	if _, err := d.W.ExecContext(ctx, `DELETE FROM settings WHERE key = ? AND value LIKE ? ESCAPE '\'`, bulkWorkerKey, strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(owner)+" %"); err != nil {
		return fmt.Errorf("db: release bulk worker: %w", err)
	}
	return nil
}

func parseWorkerClaim(v string) (string, time.Time) {
	holder, ms, ok := strings.Cut(v, " ")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil {
		return "", time.Time{}
	}
	return holder, time.UnixMilli(n)
}
