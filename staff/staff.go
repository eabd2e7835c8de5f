// Package staff owns the console's staff accounts, their sessions and first-run setup: every
// write of these goes through Service, with its audit entry in the same transaction as the
// change. It knows nothing of HTTP or HTML.
package staff

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/linkdesk/linkdesk/db"
)

// Service writes staff accounts, sessions and the setup token.
type Service struct {
	db          *db.DB
	now         func() time.Time // two-step codes' clock, invitation and reset expiry; tests move it
	maxSessions int              // live sessions per account; 0: DefaultMaxSessions
}

// DefaultMaxSessions is how many sessions one account keeps unless SetMaxSessions says otherwise.
const DefaultMaxSessions = 20

// SetMaxSessions caps the live sessions of one account (n < 1: DefaultMaxSessions). Call it
// before serving.
func (s *Service) SetMaxSessions(n int) { s.maxSessions = n }

// MaxSessions is the cap on one account's live sessions.
func (s *Service) MaxSessions() int {
	if s.maxSessions < 1 {
		return DefaultMaxSessions
	}
	return s.maxSessions
}

// New returns the staff service over d.
func New(d *db.DB) *Service { return NewWithClock(d, time.Now) }

// NewWithClock is New with the clock two-step codes and link expiry are checked against (tests).
func NewWithClock(d *db.DB, now func() time.Time) *Service { return &Service{db: d, now: now} }

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// MinPasswordLength is enforced for every password set through the console or the CLI.
const MinPasswordLength = 12

// PasswordError is a password the rules refuse; its text says why, for the person typing it.
type PasswordError struct{ Reason string }

func (e *PasswordError) Error() string { return e.Reason }

// HashPassword hashes a password for storage, refusing one the rules refuse.
func HashPassword(pw string) (string, error) {
	if err := CheckPasswordRules(pw); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	return string(h), err
}

// CheckPassword reports whether pw matches hash.
func CheckPassword(hash, pw string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
