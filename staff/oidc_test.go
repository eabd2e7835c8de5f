package staff_test

import (
	"errors"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/internal/testkit"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/staff"
)

func TestParseRoleMap(t *testing.T) {
	m, err := staff.ParseRoleMap("admin=ops, agent=support,viewer=support-ro,agent=support-2")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Decide([]string{"support-ro", "support-2"}); got != model.Agent {
		t.Errorf("highest of viewer and agent: %s", got)
	}
	if got := m.Decide([]string{"x"}); got != "" {
		t.Errorf("no mapped group: %q", got)
	}
	for _, bad := range []string{"boss=ops", "admin", "admin=", "admin=ops,agent=ops"} {
		if _, err := staff.ParseRoleMap(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSSOSignInOfADisabledAccountIsRefused(t *testing.T) {
	d := testkit.OpenDB(t)
	s := staff.New(d)
	testkit.AddUser(t, d, "admin@example.com", model.Admin, "admin password 123")
	id := staff.SSOIdentity{Issuer: "https://idp.example", Subject: "s-1", Email: "sam@example.com", EmailVerified: true, Groups: []string{"g"}, Role: model.Agent}
	u, _, err := s.SignInSSO(t.Context(), id, "")
	if err != nil {
		t.Fatal(err)
	}
	dis := true
	if err := d.UpdateUser(t.Context(), u.ID, db.UserUpdate{Disabled: &dis}, db.AuditEntry{Action: "user.update"}); err != nil {
		t.Fatal(err)
	}
	id.Role = model.Admin
	var refusal *staff.SSORefusal
	if _, _, err := s.SignInSSO(t.Context(), id, ""); !errors.As(err, &refusal) {
		t.Fatalf("a disabled account signed in with SSO: %v", err)
	}
	if u, _ := d.UserByID(t.Context(), u.ID); u.Role != model.Agent {
		t.Errorf("a refused sign-in changed the role to %s", u.Role)
	}
	// The password path is closed to an account made by SSO.
	if _, _, err := s.SignIn(t.Context(), "sam@example.com", "", ""); !errors.Is(err, staff.ErrWrongPassword) {
		t.Errorf("an SSO account signed in without a password: %v", err)
	}
}
