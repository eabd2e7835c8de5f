package staff

import (
	"errors"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/linkdesk/linkdesk/internal/testkit"
	"github.com/linkdesk/linkdesk/model"
)

// A set-up confirmed after another tab started over is refused in words (no half state), and
// the newer set-up still works.
func TestConfirmAfterRestartedSetUp(t *testing.T) {
	d := testkit.OpenDB(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s := NewWithClock(d, func() time.Time { return now })
	id := testkit.AddUser(t, d, "ada@example.com", model.Agent, "correct horse battery")
	u, _ := d.UserByID(t.Context(), id)
	first, err := s.StartTwoStep(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	stale := *u
	stale.TOTPPending = first.Secret
	second, err := s.StartTwoStep(t.Context(), u) // another tab
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(first.Secret, now)
	if _, err := s.ConfirmTwoStep(t.Context(), &stale, code); !errors.Is(err, ErrNoSetUp) {
		t.Fatalf("confirming the replaced set-up: %v, want ErrNoSetUp", err)
	}
	u, _ = d.UserByID(t.Context(), id)
	code, _ = totp.GenerateCode(second.Secret, now)
	codes, err := s.ConfirmTwoStep(t.Context(), u, code)
	if err != nil || len(codes) != RecoveryCodes {
		t.Fatalf("the newer set-up: %v, %d codes", err, len(codes))
	}
	if u, _ = d.UserByID(t.Context(), id); !u.TwoStepEnabled() || u.TOTPSecret != second.Secret || u.TOTPPending != "" {
		t.Fatal("two-step sign-in not on with the newer secret")
	}
}
