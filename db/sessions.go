package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Session is a signed-in browser. Every function here takes the session id the cookie carries;
// the table holds only SessionKey(id).
type Session struct {
	Key        string // SessionKey of the id
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	UserAgent  string
	IP         string
}

// SessionKey is what the sessions table stores for a session id: its SHA-256, so a copy of
// the database holds nothing a session cookie could be made from. (The id has 256 random bits,
// so a fast hash is enough.)
func SessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// SessionClient describes the browser of a new session, for the list of one's sessions.
type SessionClient struct {
	UserAgent string
	IP        string
}

// InsertSession stores a new session as part of tx.
func InsertSession(ctx context.Context, tx *sql.Tx, id string, userID int64) error {
	now := Now()
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)`, SessionKey(id), userID, now, now)
	if err != nil {
		return fmt.Errorf("db: create session: %w", err)
	}
	return nil
}

// DescribeSession records which browser a session is.
func (d *DB) DescribeSession(ctx context.Context, id string, c SessionClient) error {
	_, err := d.W.ExecContext(ctx, `UPDATE sessions SET user_agent = ?, ip = ? WHERE id = ?`, truncate(c.UserAgent, 300), truncate(c.IP, 64), SessionKey(id))
	if err != nil {
		return fmt.Errorf("db: describe session: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "")
	}
	return s
}

const sessionCols = `s.id, s.user_id, s.created_at, s.last_seen_at, s.user_agent, s.ip`

func sessionDest(s *Session, created, seen *int64) []any {
	return []any{&s.Key, &s.UserID, created, seen, &s.UserAgent, &s.IP}
}

var sessionUserSQL = `SELECT ` + sessionCols + `, ` + prefixed("u.", userCols) + `
	FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`

// SessionUser returns the session and its user, from memory while neither has changed (see
// sessionCache).
func (d *DB) SessionUser(ctx context.Context, id string) (*Session, *User, error) {
	key := SessionKey(id)
	if e, ok := d.sessions.get(key); ok {
		return &e.s, &e.u, nil
	}
	gen := d.sessions.generation()
	var e sessionEntry
	var created, seen, uc, uu int64
	err := d.W.QueryRowContext(ctx, sessionUserSQL, key).Scan(append(sessionDest(&e.s, &created, &seen), userDest(&e.u, &uc, &uu)...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("db: session: %w", err)
	}
	e.s.CreatedAt, e.s.LastSeenAt = time.UnixMilli(created), time.UnixMilli(seen)
	e.u.CreatedAt, e.u.UpdatedAt = time.UnixMilli(uc), time.UnixMilli(uu)
	d.sessions.put(key, gen, e)
	return &e.s, &e.u, nil
}

// UserSessions returns a user's sessions, the most recently active first.
func (d *DB) UserSessions(ctx context.Context, userID int64) ([]Session, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions s WHERE s.user_id = ? ORDER BY s.last_seen_at DESC, s.created_at DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("db: user sessions: %w", err)
	}
	out, err := scanSessions(rows)
	if err != nil {
		return nil, fmt.Errorf("db: user sessions: %w", err)
	}
	return out, nil
}

// scanSessions reads every row of a query of sessionCols and closes rows.
func scanSessions(rows *sql.Rows) ([]Session, error) {
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var s Session
		var created, seen int64
		if err := rows.Scan(sessionDest(&s, &created, &seen)...); err != nil {
			return nil, err
		}
		s.CreatedAt, s.LastSeenAt = time.UnixMilli(created), time.UnixMilli(seen)
		out = append(out, s)
	}
	return out, rows.Err()
}

// TouchSession records activity for the idle timeout.
func (d *DB) TouchSession(ctx context.Context, id string) error {
	_, err := d.W.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, Now(), SessionKey(id))
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
	if _, err := x.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, SessionKey(id)); err != nil {
		return fmt.Errorf("db: delete session: %w", err)
	}
	return nil
}

// RemoveOtherSessions ends every session of userID but the one with id keep ("": all of
// them), as part of tx, and returns how many ended.
func RemoveOtherSessions(ctx context.Context, tx *sql.Tx, userID int64, keep string) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, SessionKey(keep))
	if err != nil {
		return 0, fmt.Errorf("db: end other sessions: %w", err)
	}
	return res.RowsAffected()
}

// TrimSessions ends, as part of tx, the sessions of userID beyond the keep most recently used
// (ties: the older first), so one more can start without the account passing its cap, and
// returns the ended ones.
func TrimSessions(ctx context.Context, tx *sql.Tx, userID int64, keep int) ([]Session, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions s WHERE s.user_id = ?
		ORDER BY s.last_seen_at DESC, s.created_at DESC, s.rowid DESC LIMIT -1 OFFSET ?`, userID, max(keep, 0))
	if err != nil {
		return nil, fmt.Errorf("db: trim sessions: %w", err)
	}
	out, err := scanSessions(rows)
	if err != nil {
		return nil, fmt.Errorf("db: trim sessions: %w", err)
	}
	for _, s := range out {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, s.Key); err != nil {
			return nil, fmt.Errorf("db: trim sessions: %w", err)
		}
	}
	return out, nil
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
