package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/model"
)

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID      int64
	At      time.Time
	UserID  int64 // 0 for the system (webhooks, reconciler, worker)
	Actor   string
	Action  string
	Target  string
	Outcome string // "ok" or the error in words
	Detail  string
}

// AuditBy is an entry for what a did.
func AuditBy(a model.Actor, action, target, detail string) AuditEntry {
	return AuditEntry{UserID: a.ID, Actor: a.Name, Action: action, Target: target, Detail: detail}
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// AddAudit records e; pass a *sql.Tx to make it part of a larger change.
func AddAudit(ctx context.Context, x execer, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	if e.Outcome == "" {
		e.Outcome = "ok"
	}
	_, err := x.ExecContext(ctx,
		`INSERT INTO audit_log (at, user_id, actor, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.At.UnixMilli(), nullID(e.UserID), e.Actor, e.Action, e.Target, e.Outcome, e.Detail)
	if err != nil {
		return fmt.Errorf("db: add audit %s: %w", e.Action, err)
	}
	return nil
}

// Audit records e on its own.
func (d *DB) Audit(ctx context.Context, e AuditEntry) error { return AddAudit(ctx, d.W, e) }

// AuditFilter narrows the audit page; zero values mean "any".
type AuditFilter struct {
	Target string
	Action string // prefix, e.g. "inquiry." or "user."
	UserID int64
	Before int64 // keyset: entries with id < Before
	Limit  int
}

// ListAudit returns entries newest first.
func (d *DB) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var where []string
	var args []any
	if f.Target != "" {
		where = append(where, "target = ?")
		args = append(args, f.Target)
	}
	if f.Action != "" {
		where = append(where, "action LIKE ? ESCAPE '\\'")
		args = append(args, escapeLike(f.Action)+"%")
	}
	if f.UserID != 0 {
		where = append(where, "user_id = ?")
		args = append(args, f.UserID)
	}
	q, args := newestFirst(`SELECT id, at, COALESCE(user_id, 0), actor, action, target, outcome, detail FROM audit_log`,
		"id", where, args, f.Before, f.Limit)
	rows, err := d.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: list audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.UserID, &e.Actor, &e.Action, &e.Target, &e.Outcome, &e.Detail); err != nil {
			return nil, fmt.Errorf("db: list audit: %w", err)
		}
		e.At = time.UnixMilli(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// escapeLike makes s literal inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
