package staff

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/linkdesk/linkdesk/db"
)

// ErrCurrentPassword: the current password given to change it is not right.
var ErrCurrentPassword = errors.New("the current password is not right")

// secondStep says what a correct password still needs: a code (ErrCodeNeeded), a set-up of
// two-step sign-in when admins require it (ErrSetUpNeeded), or nothing (nil).
func (s *Service) secondStep(ctx context.Context, u *db.User) error {
	if u.TwoStepEnabled() {
		return ErrCodeNeeded
	}
	required, err := s.TwoStepRequired(ctx)
	if err != nil {
		return err
	}
	if required {
		return ErrSetUpNeeded
	}
	return nil
}

// SignInWithCode finishes the sign-in of u (whose password was right) with a code from the
// authenticator app or a recovery code, starting the session and writing the audit entry.
func (s *Service) SignInWithCode(ctx context.Context, u *db.User, code, oldSID string) (string, error) {
	if u.Disabled {
		return "", ErrDisabled
	}
	how, err := s.CheckCode(ctx, u, code)
	if err != nil {
		return "", err
	}
	return s.SignedIn(ctx, u, oldSID, how)
}

// DescribeSession records which browser session sid is, for the list of one's sessions.
func (s *Service) DescribeSession(ctx context.Context, sid string, c db.SessionClient) error {
	return s.db.DescribeSession(ctx, sid, c)
}

// EndOtherSessions signs u out everywhere but the session keep, with the audit entry, and
// returns how many sessions ended.
func (s *Service) EndOtherSessions(ctx context.Context, u *db.User, keep string) (int64, error) {
	var n int64
	err := s.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		if n, err = db.RemoveOtherSessions(ctx, tx, u.ID, keep); err != nil {
			return err
		}
		return db.AddAudit(ctx, tx, db.AuditBy(u.Actor(), "user.sessions.end", u.Email,
			fmt.Sprintf("signed out %d other %s", n, plural(n, "session", "sessions"))))
	})
	return n, err
}

// ChangePassword sets u's own password after checking the current one, ending every other
// session of u, with the audit entry, in one transaction. It returns ErrCurrentPassword or a
// *PasswordError for the new one.
func (s *Service) ChangePassword(ctx context.Context, u *db.User, current, next, keep string) error {
	if !CheckPassword(u.PasswordHash, current) {
		return ErrCurrentPassword
	}
	if next == current {
		return &PasswordError{"the new password must differ from the current one"}
	}
	hash, err := HashPassword(next)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.SetPasswordHash(ctx, tx, u.ID, hash); err != nil {
			return err
		}
		n, err := db.RemoveOtherSessions(ctx, tx, u.ID, keep)
		if err != nil {
			return err
		}
		return db.AddAudit(ctx, tx, db.AuditBy(u.Actor(), "user.password.change", u.Email,
			fmt.Sprintf("changed their own password; %d other %s signed out", n, plural(n, "session", "sessions"))))
	})
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
