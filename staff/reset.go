package staff

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
)

// ResetTTL is how long a password reset link works.
const ResetTTL = time.Hour

// resetGap is the least time between two reset emails to one account, so the form cannot be
// used to flood someone's inbox.
const resetGap = time.Minute

// RequestPasswordReset emails a single-use link to choose a new password (through the outbox)
// when email belongs to an enabled account that signs in with a password; for any other email
// it does nothing. Either way it returns nil, so the caller answers the same.
func (s *Service) RequestPasswordReset(ctx context.Context, email, baseURL string) error {
	u, err := s.db.UserByEmail(ctx, email)
	if errors.Is(err, db.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if u.Disabled {
		return nil
	}
	// An account that signs in through the identity provider keeps its password there.
	if sso, err := s.db.HasIdentity(ctx, u.ID); err != nil || sso {
		return err
	}
	tok := randomHex(32)
	now := s.now()
	msg := resetEmail(u.Name, tokenLink(baseURL, "/password/reset", tok), ResetTTL)
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var recent int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM password_resets WHERE user_id = ? AND created_at > ?`,
			u.ID, now.Add(-resetGap).UnixMilli()).Scan(&recent); err != nil {
			return err
		}
		if recent > 0 {
			return nil
		}
		if err := db.InsertPasswordReset(ctx, tx, tokenHash(tok), u.ID, now, now.Add(ResetTTL)); err != nil {
			return err
		}
		if _, err := db.QueueEmail(ctx, tx, db.OutboxEmail{Kind: "staff", Recipient: u.Email, Subject: msg.Subject,
			BodyText: msg.Text, BodyHTML: msg.HTML, QueuedAt: now}); err != nil {
			return err
		}
		return db.AddAudit(ctx, tx, db.AuditBy(model.Actor{}, "user.reset-request", u.Email, ""))
	})
}

// PasswordResetAccount returns the account a reset link may still reset, or ErrLinkInvalid.
func (s *Service) PasswordResetAccount(ctx context.Context, tok string) (*db.User, error) {
	u, err := db.PasswordResetUser(ctx, s.db.R, tokenHash(tok), s.now())
	if errors.Is(err, db.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, ErrLinkInvalid
	}
	return u, err
}

// ResetPassword sets the account's new password through a reset link, once, ends every
// session of the account and starts one for this browser (unless signIn, when not nil, says
// not: the session id is then ""). It returns ErrLinkInvalid or a *PasswordError.
func (s *Service) ResetPassword(ctx context.Context, tok, pw, oldSID string, signIn func(*db.User) bool) (*db.User, string, error) {
	hash, err := HashPassword(pw)
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	var u *db.User
	var sid string
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		u, err = db.PasswordResetUser(ctx, tx, tokenHash(tok), now)
		if errors.Is(err, db.ErrNotFound) || (err == nil && u.Disabled) {
			return ErrLinkInvalid
		}
		if err != nil {
			return err
		}
		if err := closed(db.UsePasswordReset(ctx, tx, tokenHash(tok), now)); err != nil {
			return err
		}
		if err := db.SetPassword(ctx, tx, u.ID, hash); err != nil {
			return err
		}
		if signIn == nil || signIn(u) {
			if sid, err = s.startSession(ctx, tx, oldSID, u); err != nil {
				return err
			}
		}
		return db.AddAudit(ctx, tx, db.AuditBy(u.Actor(), "user.password-reset", u.Email, "every other session ended"))
	})
	if err != nil {
		return nil, "", err
	}
	return u, sid, nil
}
