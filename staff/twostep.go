package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
)

// Two-step sign-in: TOTP per RFC 6238 (what authenticator apps read: SHA-1, 6 digits, 30 s
// steps), one step of skew either way, each step's code accepted once per account.
var totpOpts = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// RecoveryCodes is how many recovery codes a set-up gives.
const RecoveryCodes = 10

// TwoStepRequiredKey is the setting that makes every local account use two-step sign-in.
const TwoStepRequiredKey = "two_step_required"

var (
	// ErrCodeNeeded: the password is right and the account asks for a code next.
	ErrCodeNeeded = errors.New("enter the code from your authenticator app")
	// ErrSetUpNeeded: the password is right, and two-step sign-in is required but not set up.
	ErrSetUpNeeded = errors.New("set up two-step sign-in to continue")
	// ErrWrongCode: the code is not the current one, was used already, or is no recovery code.
	ErrWrongCode = errors.New("the code is not right")
	// ErrNoSetUp: there is no set-up in progress to confirm (or it is already on).
	ErrNoSetUp = errors.New("no two-step set-up is in progress")
)

// TwoStepSetUp is what a person needs to add the account to an authenticator app; shown only
// while setting up.
type TwoStepSetUp struct {
	URL    string // otpauth:// URL, for the QR code
	Secret string // the same secret as text (base32)
}

// TwoStepRequired reports whether admins require two-step sign-in for every local account.
func (s *Service) TwoStepRequired(ctx context.Context) (bool, error) {
	v, err := s.db.Setting(ctx, TwoStepRequiredKey)
	if errors.Is(err, db.ErrNotFound) {
		return false, nil
	}
	return v == "yes", err
}

// SetTwoStepRequired turns the requirement on or off, with its audit entry.
func (s *Service) SetTwoStepRequired(ctx context.Context, by model.Actor, on bool) error {
	v, what := "no", "two-step sign-in no longer required"
	if on {
		v, what = "yes", "two-step sign-in required for every local account"
	}
	return s.db.SetSettings(ctx, map[string]string{TwoStepRequiredKey: v}, db.AuditBy(by, "settings.two-step", TwoStepRequiredKey, what))
}

// StartTwoStep makes a new secret for u to set up (replacing one being set up) and returns it.
func (s *Service) StartTwoStep(ctx context.Context, u *db.User) (TwoStepSetUp, error) {
	if u.TwoStepEnabled() {
		return TwoStepSetUp{}, ErrNoSetUp
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Linkdesk", AccountName: u.Email, Period: totpOpts.Period, Digits: totpOpts.Digits, Algorithm: totpOpts.Algorithm})
	if err != nil {
		return TwoStepSetUp{}, fmt.Errorf("staff: two-step secret: %w", err)
	}
	if err := s.db.SetTOTPPending(ctx, u.ID, key.Secret()); err != nil {
		return TwoStepSetUp{}, err
	}
	return TwoStepSetUp{URL: key.URL(), Secret: key.Secret()}, nil
}

// PendingTwoStep returns the set-up in progress for u, if any (to show it again).
func (s *Service) PendingTwoStep(u *db.User) (TwoStepSetUp, bool) {
	if u.TOTPPending == "" || u.TwoStepEnabled() {
		return TwoStepSetUp{}, false
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.TOTPPending)
	if err != nil {
		return TwoStepSetUp{}, false
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Linkdesk", AccountName: u.Email, Secret: raw, Period: totpOpts.Period, Digits: totpOpts.Digits, Algorithm: totpOpts.Algorithm})
	if err != nil {
		return TwoStepSetUp{}, false
	}
	return TwoStepSetUp{URL: key.URL(), Secret: key.Secret()}, true
}

// ConfirmTwoStep turns two-step sign-in on for u when code is right for the secret being set
// up, storing the secret, the code's step (so it is not accepted again) and the hashes of new
// recovery codes, with the audit entry, in one transaction. It returns the recovery codes: the
// only time they are seen.
func (s *Service) ConfirmTwoStep(ctx context.Context, u *db.User, code string) ([]string, error) {
	if u.TOTPPending == "" || u.TwoStepEnabled() {
		return nil, ErrNoSetUp
	}
	step, ok := matchStep(u.TOTPPending, code, s.now())
	if !ok {
		return nil, ErrWrongCode
	}
	codes, hashes := newRecoveryCodes()
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.EnableTOTP(ctx, tx, u.ID, u.TOTPPending, step, hashes); err != nil {
			return err
		}
		return db.AddAudit(ctx, tx, db.AuditBy(u.Actor(), "user.two-step.set-up", u.Email,
			fmt.Sprintf("two-step sign-in set up, with %d new recovery codes", RecoveryCodes)))
	})
	if errors.Is(err, db.ErrNotFound) {
		return nil, ErrNoSetUp // another tab started over, or finished, meanwhile
	}
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// CheckCode accepts a current code from u's app (each time step once) or one of u's unused
// recovery codes (spent by it). It says in words which was used, for the audit entry.
func (s *Service) CheckCode(ctx context.Context, u *db.User, code string) (string, error) {
	if !u.TwoStepEnabled() {
		return "", ErrNoSetUp
	}
	if step, ok := matchStep(u.TOTPSecret, code, s.now()); ok {
		fresh, err := s.db.UseTOTPStep(ctx, u.ID, step)
		if err != nil {
			return "", err
		}
		if !fresh {
			return "", ErrWrongCode // that code was accepted already: a replay
		}
		return "with a code from the authenticator app", nil
	}
	norm := normalizeRecovery(code)
	if len(norm) != recoveryLen {
		return "", ErrWrongCode
	}
	left, ok, err := s.db.UseRecoveryCode(ctx, u.ID, hashRecovery(norm))
	if err != nil {
		return "", err
	}
	if !ok {
		return "", ErrWrongCode
	}
	return fmt.Sprintf("with a recovery code (%d left)", left), nil
}

// ResetTwoStep turns two-step sign-in off for u (a lost phone) and drops its recovery codes,
// with the audit entry; u sets it up again (at the next sign-in when it is required).
func (s *Service) ResetTwoStep(ctx context.Context, by model.Actor, u *db.User) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.DisableTOTP(ctx, tx, u.ID); err != nil {
			return err
		}
		return db.AddAudit(ctx, tx, db.AuditBy(by, "user.two-step.reset", u.Email, "two-step sign-in reset: "+u.Name+" sets it up again"))
	})
}

// matchStep finds the time step (within the skew) whose code is code, comparing in constant
// time; the library makes each code.
func matchStep(secret, code string, now time.Time) (int64, bool) {
	code = strings.Join(strings.Fields(code), "")
	if len(code) != 6 {
		return 0, false
	}
	period := int64(totpOpts.Period)
	base := now.Unix() / period
	for d := -int64(totpOpts.Skew); d <= int64(totpOpts.Skew); d++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix((base+d)*period, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return base + d, true
		}
	}
	return 0, false
}

// Recovery codes: 10 letters and digits from base32's alphabet (50 random bits), shown as
// xxxxx-xxxxx; stored as the SHA-256 of the lower-case letters (the bits make a slow hash
// unnecessary, and sign-in throttling limits guesses).
const recoveryLen = 10

var recoveryEnc = base32.StdEncoding.WithPadding(base32.NoPadding)

func newRecoveryCodes() (codes, hashes []string) {
	for range RecoveryCodes {
		b := make([]byte, 7)
		rand.Read(b)
		c := strings.ToLower(recoveryEnc.EncodeToString(b))[:recoveryLen]
		codes = append(codes, c[:5]+"-"+c[5:])
		hashes = append(hashes, hashRecovery(c))
	}
	return codes, hashes
}

func normalizeRecovery(code string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(code)))
}

func hashRecovery(norm string) string {
	sum := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(sum[:])
}
