package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/model"
)

// --- SSO identities (migration 022) ---

// UserByIdentity returns the account linked to the OpenID Connect identity issuer+subject, or
// ErrNotFound.
func UserByIdentity(ctx context.Context, q Querier, issuer, subject string) (*User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+prefixed("u.", userCols)+`
		FROM oidc_identities i JOIN users u ON u.id = i.user_id WHERE i.issuer = ? AND i.subject = ?`, issuer, subject))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("db: user by identity: %w", err)
	}
	return u, err
}

// UserByEmailTx is UserByEmail inside tx.
func UserByEmailTx(ctx context.Context, tx *sql.Tx, email string) (*User, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE email = ?`, strings.TrimSpace(email)))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("db: user by email: %w", err)
	}
	return u, err
}

// LinkIdentity links issuer+subject to user id as part of tx.
func LinkIdentity(ctx context.Context, tx *sql.Tx, issuer, subject string, userID int64) error {
	now := Now()
	_, err := tx.ExecContext(ctx, `INSERT INTO oidc_identities (issuer, subject, user_id, created_at, last_sign_in_at) VALUES (?, ?, ?, ?, ?)`,
		issuer, subject, userID, now, now)
	if err != nil {
		return fmt.Errorf("db: link identity: %w", err)
	}
	return nil
}

// TouchIdentity records a sign-in with issuer+subject as part of tx.
func TouchIdentity(ctx context.Context, tx *sql.Tx, issuer, subject string) error {
	_, err := tx.ExecContext(ctx, `UPDATE oidc_identities SET last_sign_in_at = ? WHERE issuer = ? AND subject = ?`, Now(), issuer, subject)
	if err != nil {
		return fmt.Errorf("db: touch identity: %w", err)
	}
	return nil
}

// HasIdentity reports whether user id signs in with SSO.
func (d *DB) HasIdentity(ctx context.Context, userID int64) (bool, error) {
	var n int
	err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM oidc_identities WHERE user_id = ?`, userID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("db: has identity: %w", err)
	}
	return n > 0, nil
}

// SSOUsers returns the ids of the accounts that sign in with SSO.
func (d *DB) SSOUsers(ctx context.Context) (map[int64]bool, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT DISTINCT user_id FROM oidc_identities`)
	if err != nil {
		return nil, fmt.Errorf("db: SSO users: %w", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("db: SSO users: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// SetUserRole sets user id's role as part of tx (the provider's groups decided it).
func SetUserRole(ctx context.Context, tx *sql.Tx, id int64, role model.Role) error {
	if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, updated_at = ? WHERE id = ?`, role, Now(), id); err != nil {
		return fmt.Errorf("db: set role: %w", err)
	}
	return nil
}

// SetPassword sets user id's password hash and ends every session of the account, as part of tx.
func SetPassword(ctx context.Context, tx *sql.Tx, id int64, hash string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, Now(), id); err != nil {
		return fmt.Errorf("db: set password: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
		return fmt.Errorf("db: end sessions: %w", err)
	}
	return nil
}

// Querier is the reader pool (DB.R) or a *sql.Tx, for the one-row reads here.
type Querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// --- invitations ---

// Invitation is an emailed invitation to become staff.
type Invitation struct {
	ID         int64
	Email      string
	Name       string
	Role       model.Role
	InvitedBy  string // the admin's name
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedAt time.Time
	RevokedAt  time.Time
}

const invitationCols = `i.id, i.email, i.name, i.role, COALESCE(u.name, ''), i.created_at, i.expires_at, i.accepted_at, i.revoked_at`
const invitationFrom = ` FROM invitations i LEFT JOIN users u ON u.id = i.invited_by`

func scanInvitation(row scanner) (*Invitation, error) {
	var inv Invitation
	var created, expires int64
	var accepted, revoked sql.NullInt64
	if err := row.Scan(&inv.ID, &inv.Email, &inv.Name, &inv.Role, &inv.InvitedBy, &created, &expires, &accepted, &revoked); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("db: invitation: %w", err)
	}
	inv.CreatedAt, inv.ExpiresAt = time.UnixMilli(created), time.UnixMilli(expires)
	inv.AcceptedAt, inv.RevokedAt = fromMS(accepted), fromMS(revoked)
	return &inv, nil
}

// InsertInvitation stores an invitation by the hash of its token, as part of tx.
func InsertInvitation(ctx context.Context, tx *sql.Tx, tokenHash string, inv Invitation, by int64) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO invitations (token_hash, email, name, role, invited_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		tokenHash, strings.TrimSpace(inv.Email), inv.Name, inv.Role, nullID(by), inv.CreatedAt.UnixMilli(), inv.ExpiresAt.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("db: add invitation: %w", err)
	}
	return res.LastInsertId()
}

// InvitationByToken returns the invitation whose token hashes to tokenHash, or ErrNotFound.
func InvitationByToken(ctx context.Context, q Querier, tokenHash string) (*Invitation, error) {
	return scanInvitation(q.QueryRowContext(ctx, `SELECT `+invitationCols+invitationFrom+` WHERE i.token_hash = ?`, tokenHash))
}

// InvitationByID returns one invitation, or ErrNotFound.
func (d *DB) InvitationByID(ctx context.Context, id int64) (*Invitation, error) {
	return scanInvitation(d.R.QueryRowContext(ctx, `SELECT `+invitationCols+invitationFrom+` WHERE i.id = ?`, id))
}

// OpenInvitations returns the invitations neither accepted nor revoked, newest first (expired
// ones included, so an admin sees them and can invite again).
func (d *DB) OpenInvitations(ctx context.Context) ([]Invitation, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT `+invitationCols+invitationFrom+` WHERE i.accepted_at IS NULL AND i.revoked_at IS NULL ORDER BY i.id DESC LIMIT 200`)
	if err != nil {
		return nil, fmt.Errorf("db: invitations: %w", err)
	}
	defer rows.Close()
	var out []Invitation
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *inv)
	}
	return out, rows.Err()
}

// CloseInvitation marks invitation id accepted (by user, when userID is not 0) or revoked, as
// part of tx, only while it is open and unexpired at now. It reports whether it did.
func CloseInvitation(ctx context.Context, tx *sql.Tx, id, userID int64, now time.Time) (bool, error) {
	q := `UPDATE invitations SET revoked_at = ? WHERE id = ? AND accepted_at IS NULL AND revoked_at IS NULL`
	args := []any{now.UnixMilli(), id}
	if userID != 0 {
		q = `UPDATE invitations SET accepted_at = ?, user_id = ? WHERE id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?`
		args = []any{now.UnixMilli(), userID, id, now.UnixMilli()}
	}
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("db: close invitation: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RevokeOpenInvitations revokes every open invitation to email as part of tx (a new one
// replaces them).
func RevokeOpenInvitations(ctx context.Context, tx *sql.Tx, email string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = ? WHERE email = ? AND accepted_at IS NULL AND revoked_at IS NULL`, now.UnixMilli(), strings.TrimSpace(email))
	if err != nil {
		return fmt.Errorf("db: revoke invitations: %w", err)
	}
	return nil
}

// --- password resets ---

// InsertPasswordReset stores a reset by the hash of its token, as part of tx, ending the
// account's earlier unused resets (only the newest email works).
func InsertPasswordReset(ctx context.Context, tx *sql.Tx, tokenHash string, userID int64, now, expires time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM password_resets WHERE user_id = ? AND used_at IS NULL`, userID); err != nil {
		return fmt.Errorf("db: end older resets: %w", err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		tokenHash, userID, now.UnixMilli(), expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("db: add password reset: %w", err)
	}
	return nil
}

// PasswordResetUser returns the account a reset token (by its hash) may still reset at now, or
// ErrNotFound when the token is unknown, used or expired.
func PasswordResetUser(ctx context.Context, q Querier, tokenHash string, now time.Time) (*User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+prefixed("u.", userCols)+` FROM password_resets r JOIN users u ON u.id = r.user_id
		WHERE r.token_hash = ? AND r.used_at IS NULL AND r.expires_at > ?`, tokenHash, now.UnixMilli()))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("db: password reset: %w", err)
	}
	return u, err
}

// UsePasswordReset marks the reset used as part of tx; it reports false when it already was.
func UsePasswordReset(ctx context.Context, tx *sql.Tx, tokenHash string, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE password_resets SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`,
		now.UnixMilli(), tokenHash, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("db: use password reset: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
