package staff

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
)

const setupTokenKey = "setup_token_sha256"

var (
	// ErrSetupDone: an account exists, so first-run setup is over.
	ErrSetupDone = errors.New("setup is finished: an admin exists")
	// ErrSetupToken: the setup token is wrong or no longer the newest.
	ErrSetupToken = errors.New("the setup link is wrong or old")
)

// SetupToken makes a new one-time setup token when no user exists yet, stores its hash and
// returns it; it returns "" once someone has set Linkdesk up.
func (s *Service) SetupToken(ctx context.Context) (string, error) {
	n, err := s.db.UserCount(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	tok := randomHex(24)
	if err := s.db.SetSettings(ctx, map[string]string{setupTokenKey: tokenHash(tok)}, db.AuditEntry{}); err != nil {
		return "", err
	}
	return tok, nil
}

func tokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// ValidSetupToken reports whether tok is the newest setup token.
func (s *Service) ValidSetupToken(ctx context.Context, tok string) bool {
	want, err := s.db.Setting(ctx, setupTokenKey)
	if err != nil || tok == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(tokenHash(tok)), []byte(want)) == 1
}

// Setup creates the first admin from a valid setup token and signs them in: the account, the
// token's removal, the audit entry and the new session (ending oldSID) are one transaction.
// It returns ErrSetupDone when an account exists, ErrSetupToken for a wrong token, and a
// *PasswordError for a password the rules refuse.
func (s *Service) Setup(ctx context.Context, tok string, name, email, password, oldSID string) (*db.User, string, error) {
	if !s.ValidSetupToken(ctx, tok) {
		return nil, "", ErrSetupToken
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, "", err
	}
	var id int64
	var sid string
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var created bool
		var err error
		if id, created, err = db.InsertFirstAdmin(ctx, tx, db.User{Email: email, Name: name, PasswordHash: hash}); err != nil {
			return err
		}
		if !created {
			return ErrSetupDone
		}
		if err := db.RemoveSetting(ctx, tx, setupTokenKey); err != nil {
			return err
		}
		if err := db.AddAudit(ctx, tx, db.AuditBy(model.Actor{ID: id, Name: name}, "user.setup", email, "first admin created")); err != nil {
			return err
		}
		sid, err = s.startSession(ctx, tx, oldSID, &db.User{ID: id, Name: name, Email: email})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	u, err := s.db.UserByID(ctx, id)
	if err != nil {
		return nil, "", err
	}
	return u, sid, nil
}
