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

// Roles, from most to least powerful: the names model's roles had here before it existed,
// kept so callers and tests read the same.
const (
	RoleAdmin    = model.Admin
	RoleReviewer = model.Reviewer
	RoleAgent    = model.Agent
	RoleViewer   = model.Viewer
)

// ErrEmailTaken is returned when another user already has the email address.
var ErrEmailTaken = errors.New("a staff member with this email already exists")

// ErrLastAdmin is returned by a change that would leave no active admin.
var ErrLastAdmin = errors.New("this is the last active admin")

// User is a staff account.
type User struct {
	ID           int64
	Email        string
	Name         string
	Role         model.Role
	PasswordHash string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time

	// Two-step sign-in (staff/twostep.go): never rendered, never logged.
	TOTPSecret   string // the confirmed secret; "" when two-step sign-in is off
	TOTPPending  string // a secret shown for set-up and not yet confirmed
	TOTPLastStep int64  // the last time step a code was accepted for
}

// TwoStepEnabled reports whether the account signs in with a password and a code (an admin
// with it may use password sign-in where SSO is otherwise the only way).
func (u *User) TwoStepEnabled() bool { return u.TOTPSecret != "" }

// Actor is the staff member as audit entries and the rules name them.
func (u *User) Actor() model.Actor { return model.Actor{ID: u.ID, Name: u.Name, Role: u.Role} }

const userCols = `id, email, name, role, password_hash, disabled, created_at, updated_at, totp_secret, totp_pending, totp_last_step`

// userDest is where a row of userCols scans to; created and updated are unix milliseconds.
func userDest(u *User, created, updated *int64) []any {
	return []any{&u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &u.Disabled, created, updated, &u.TOTPSecret, &u.TOTPPending, &u.TOTPLastStep}
}

func scanUser(row scanner) (*User, error) {
	var u User
	var created, updated int64
	if err := row.Scan(userDest(&u, &created, &updated)...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	return &u, nil
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// CreateUser inserts u on its own (the command line and tests); the console's staff service
// uses InsertUser inside the transaction that also writes the audit entry.
func (d *DB) CreateUser(ctx context.Context, u User) (int64, error) {
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) (err error) {
		id, err = InsertUser(ctx, tx, u)
		return err
	})
	return id, err
}

// InsertUser inserts u as part of tx and returns its id.
func InsertUser(ctx context.Context, tx *sql.Tx, u User) (int64, error) {
	now := Now()
	res, err := tx.ExecContext(ctx,
		`INSERT INTO users (email, name, role, password_hash, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		strings.TrimSpace(u.Email), u.Name, u.Role, u.PasswordHash, u.Disabled, now, now)
	if isUniqueViolation(err) {
		return 0, ErrEmailTaken
	}
	if err != nil {
		return 0, fmt.Errorf("db: create user: %w", err)
	}
	return res.LastInsertId()
}

// InsertFirstAdmin inserts u as an admin only if no user exists yet, as part of tx, so two
// setup requests racing cannot both create an admin. It reports whether it created one.
func InsertFirstAdmin(ctx context.Context, tx *sql.Tx, u User) (int64, bool, error) {
	now := Now()
	res, err := tx.ExecContext(ctx,
		`INSERT INTO users (email, name, role, password_hash, disabled, created_at, updated_at)
		 SELECT ?, ?, 'admin', ?, 0, ?, ? WHERE NOT EXISTS (SELECT 1 FROM users)`,
		strings.TrimSpace(u.Email), u.Name, u.PasswordHash, now, now)
	if err != nil {
		return 0, false, fmt.Errorf("db: create first admin: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, false, nil
	}
	id, err := res.LastInsertId()
	return id, true, err
}

// UserCount returns how many staff accounts exist.
func (d *DB) UserCount(ctx context.Context) (int, error) {
	var n int
	err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("db: count users: %w", err)
	}
	return n, nil
}

// UserByEmail finds a user case-insensitively.
func (d *DB) UserByEmail(ctx context.Context, email string) (*User, error) {
	u, err := scanUser(d.R.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE email = ?`, strings.TrimSpace(email)))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("db: user by email: %w", err)
	}
	return u, err
}

// UserByID finds a user by id.
func (d *DB) UserByID(ctx context.Context, id int64) (*User, error) {
	u, err := scanUser(d.R.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("db: user by id: %w", err)
	}
	return u, err
}

// ListUsers returns every staff account, by name.
func (d *DB) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY name COLLATE NOCASE, id`)
	if err != nil {
		return nil, fmt.Errorf("db: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("db: list users: %w", err)
		}
		out = append(out, *u)
	}
	return out, rows.Err()
}

// UserUpdate names the fields an admin changes; nil leaves a field as it is.
type UserUpdate struct {
	Name         *string
	Email        *string
	Role         *model.Role
	PasswordHash *string
	Disabled     *bool
}

// UpdateUser applies up to user id. A change of role, password or the disabled flag ends the
// user's sessions in the same transaction, so the change takes effect at once.
func (d *DB) UpdateUser(ctx context.Context, id int64, up UserUpdate, audit AuditEntry) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		set := []string{"updated_at = ?"}
		args := []any{Now()}
		add := func(col string, v any) { set = append(set, col+" = ?"); args = append(args, v) }
		if up.Name != nil {
			add("name", *up.Name)
		}
		if up.Email != nil {
			add("email", strings.TrimSpace(*up.Email))
		}
		if up.Role != nil {
			add("role", *up.Role)
		}
		if up.PasswordHash != nil {
			add("password_hash", *up.PasswordHash)
		}
		if up.Disabled != nil {
			add("disabled", *up.Disabled)
		}
		args = append(args, id)
		res, err := tx.ExecContext(ctx, `UPDATE users SET `+strings.Join(set, ", ")+` WHERE id = ?`, args...)
		if isUniqueViolation(err) {
			return ErrEmailTaken
		}
		if err != nil {
			return fmt.Errorf("db: update user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		// Checked inside the transaction, so two admins demoting each other at once cannot both win.
		var admins int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0`).Scan(&admins); err != nil {
			return fmt.Errorf("db: count admins: %w", err)
		}
		if admins == 0 {
			return ErrLastAdmin
		}
		if up.Role != nil || up.PasswordHash != nil || (up.Disabled != nil && *up.Disabled) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
				return fmt.Errorf("db: end sessions: %w", err)
			}
		}
		return AddAudit(ctx, tx, audit)
	})
}

// SetPasswordHash replaces user id's password hash as part of tx.
func SetPasswordHash(ctx context.Context, tx *sql.Tx, id int64, hash string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, Now(), id); err != nil {
		return fmt.Errorf("db: set password: %w", err)
	}
	return nil
}
