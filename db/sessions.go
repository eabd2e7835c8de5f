package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Session is a signed-in browser.
type Session struct {
	ID         string
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
}

// InsertSession stores a new session as part of tx.
func InsertSession(ctx context.Context, tx *sql.Tx, id string, userID int64) error {
	now := Now()
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)`, id, userID, now, now)
	if err != nil {
		return fmt.Errorf("db: create session: %w", err)
	}
	return nil
}

// SessionUser returns the session and its user.
func (d *DB) SessionUser(ctx context.Context, id string) (*Session, *User, error) {
	var s Session
	var created, seen int64
	row := d.R.QueryRowContext(ctx, `SELECT s.id, s.user_id, s.created_at, s.last_seen_at, `+prefixed("u.", userCols)+`
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`, id)
	var u User
	var uc, uu int64
	err := row.Scan(&s.ID, &s.UserID, &created, &seen, &u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &u.Disabled, &uc, &uu)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("db: session: %w", err)
	}
	s.CreatedAt, s.LastSeenAt = time.UnixMilli(created), time.UnixMilli(seen)
	u.CreatedAt, u.UpdatedAt = time.UnixMilli(uc), time.UnixMilli(uu)
	return &s, &u, nil
}

// TouchSession records activity for the idle timeout.
func (d *DB) TouchSession(ctx context.Context, id string) error {
	_, err := d.W.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, Now(), id)
	if err != nil {
		return fmt.Errorf("db: touch session: %w", err)
	}
	return nil
}

// DeleteSession ends one session.
func (d *DB) DeleteSession(ctx context.Context, id string) error {
	return RemoveSession(ctx, d.W, id)
}

// RemoveSession ends one session; pass a *sql.Tx to make it part of a larger change.
func RemoveSession(ctx context.Context, x execer, id string) error {
	if _, err := x.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("db: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions idle since before idleCutoff or created before
// absoluteCutoff.
func (d *DB) DeleteExpiredSessions(ctx context.Context, idleCutoff, absoluteCutoff time.Time) (int64, error) {
	res, err := d.W.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?`, idleCutoff.UnixMilli(), absoluteCutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("db: delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}

// prefixed qualifies a column list with a table alias.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
