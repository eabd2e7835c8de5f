package staff

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/linkdesk/linkdesk/db"
)

var (
	// ErrWrongPassword: no account has this email, or the password is not its password.
	ErrWrongPassword = errors.New("the email or password is not right")
	// ErrDisabled: the password is right but an admin disabled the account.
	ErrDisabled = errors.New("this account is disabled")
)

// dummyHash keeps sign-in for unknown emails as slow as for known ones.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not-a-real-password"), bcrypt.DefaultCost)

// SignIn checks email and password and starts a session for the account, ending the session
// oldSID (what the browser brought, possibly "") and writing the audit entry in the same
// transaction. It returns the user and the new session's id. For an account with two-step
// sign-in it starts none and returns the user with ErrCodeNeeded (then SignInWithCode), and
// with ErrSetUpNeeded when two-step sign-in is required and the account has not set it up.
func (s *Service) SignIn(ctx context.Context, email, pw, oldSID string) (*db.User, string, error) {
	return s.signIn(ctx, email, pw, oldSID, nil)
}

// signIn is SignIn; allowed, when not nil, refuses a right password with ErrSSOOnly.
func (s *Service) signIn(ctx context.Context, email, pw, oldSID string, allowed func(*db.User) bool) (*db.User, string, error) {
	u, err := s.db.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return nil, "", err
	}
	hash := string(dummyHash)
	if u != nil {
		hash = u.PasswordHash
	}
	if !CheckPassword(hash, pw) || u == nil {
		return nil, "", ErrWrongPassword
	}
	if u.Disabled {
		return nil, "", ErrDisabled
	}
	if allowed != nil && !allowed(u) {
		return nil, "", ErrSSOOnly
	}
	if err := s.secondStep(ctx, u); err != nil {
		return u, "", err
	}
	sid, err := s.SignedIn(ctx, u, oldSID, "")
	if err != nil {
		return nil, "", err
	}
	return u, sid, nil
}

// SignedIn starts a session for u, whose sign-in the caller has checked in full, ending the
// session oldSID, with the audit entry (detail says how, "" for a password alone) in the same
// transaction. It returns the new session's id.
func (s *Service) SignedIn(ctx context.Context, u *db.User, oldSID, detail string) (string, error) {
	var sid string
	err := s.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		if sid, err = s.startSession(ctx, tx, oldSID, u); err != nil {
			return err
		}
		return db.AddAudit(ctx, tx, db.AuditBy(u.Actor(), "user.sign-in", u.Email, detail))
	})
	return sid, err
}

// startSession rotates the session: the id the browser brought is dropped and a fresh one
// issued, so a planted cookie cannot be fixed onto the signed-in user. Every sign-in starts its
// session here. An account at its cap loses the session it used longest ago (with an audit entry
// saying so) rather than being refused, so a person is never locked out and one account cannot
// pile up sessions (each may hold live-update streams).
func (s *Service) startSession(ctx context.Context, tx *sql.Tx, oldSID string, u *db.User) (string, error) {
	if oldSID != "" {
		if err := db.RemoveSession(ctx, tx, oldSID); err != nil {
			return "", err
		}
	}
	limit := s.MaxSessions()
	ended, err := db.TrimSessions(ctx, tx, u.ID, limit-1)
	if err != nil {
		return "", err
	}
	for _, e := range ended {
		detail := fmt.Sprintf("an account keeps at most %d sessions", limit)
		if e.IP != "" {
			detail += "; the ended one was last used from " + e.IP
		}
		if err := db.AddAudit(ctx, tx, db.AuditBy(u.Actor(), "user.session-limit", u.Email, detail)); err != nil {
			return "", err
		}
	}
	sid := randomHex(32)
	return sid, db.InsertSession(ctx, tx, sid, u.ID)
}

// EndSession ends one session (sign-out, or one found expired).
func (s *Service) EndSession(ctx context.Context, sid string) error {
	return s.db.DeleteSession(ctx, sid)
}

// TouchSession records activity for the idle timeout.
func (s *Service) TouchSession(ctx context.Context, sid string) error {
	return s.db.TouchSession(ctx, sid)
}

// CookieKeys returns the session cookie keys as pairs of (authentication, encryption) keys.
// Configured keys win (several allow rotation: the first signs, all verify); otherwise a pair is
// generated once and kept in the database so a restart keeps people signed in.
func (s *Service) CookieKeys(ctx context.Context, configured []string) ([][]byte, error) {
	if len(configured) == 0 {
		v, err := s.db.SettingOrInit(ctx, "session_keys", func() (string, error) {
			return randomHex(64) + "," + randomHex(32), nil
		})
		if err != nil {
			return nil, fmt.Errorf("staff: session keys: %w", err)
		}
		configured = strings.Split(v, ",")
	}
	var keys [][]byte
	for _, k := range configured {
		b, err := hex.DecodeString(strings.TrimSpace(k))
		if err != nil || (len(b) != 32 && len(b) != 64) {
			return nil, fmt.Errorf("staff: LINKDESK_SESSION_KEYS: each key must be 32 or 64 bytes in hex")
		}
		keys = append(keys, b)
	}
	if len(keys)%2 == 1 {
		keys = append(keys, nil) // last key authenticates only
	}
	return keys, nil
}
