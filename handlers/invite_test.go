package handlers

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
)

var tokenInLink = regexp.MustCompile(`token=([0-9a-f]{64})`)

// emailedToken is the token in the newest outbox email to email: what the person clicks.
func (e *testEnv) emailedToken(email string) string {
	e.t.Helper()
	emails, err := e.db.ListEmails(context.Background(), db.OutboxFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range emails {
		if strings.EqualFold(m.Recipient, email) {
			if m.Kind != "staff" {
				e.t.Fatalf("email to %s has kind %q", email, m.Kind)
			}
			if t := tokenInLink.FindStringSubmatch(m.BodyText); t != nil {
				return t[1]
			}
		}
	}
	e.t.Fatalf("no email with a link to %s", email)
	return ""
}

// inviteToken is the token of the invitation emailed to email.
func (e *testEnv) inviteToken(email string) string { e.t.Helper(); return e.emailedToken(email) }

// resetToken asks for a password reset of email and returns the emailed token.
func (e *testEnv) resetToken(email string) string {
	e.t.Helper()
	if err := e.srv.staff.RequestPasswordReset(context.Background(), email, e.ts.URL); err != nil {
		e.t.Fatal(err)
	}
	return e.emailedToken(email)
}

func TestInvitation(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	admin := e.signIn("admin@example.com", pw)

	res, body := e.do(admin, "GET", "/staff", nil)
	if res.StatusCode != http.StatusOK || strings.Contains(body, `type="password"`) || !strings.Contains(body, "Send invitation") {
		t.Fatalf("the Staff page asks the admin for a password or has no invitation form: %d", res.StatusCode)
	}
	res, _ = e.do(admin, "POST", "/staff", url.Values{"name": {"Cy"}, "email": {"cy@example.com"}, "role": {"viewer"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("invite: %d", res.StatusCode)
	}
	tok := e.inviteToken("cy@example.com")
	var stored int
	e.db.R.QueryRow(`SELECT COUNT(*) FROM invitations WHERE token_hash = ?`, tok).Scan(&stored)
	if stored != 0 {
		t.Error("the invitation token is stored as it is, not only its hash")
	}
	if _, body = e.do(admin, "GET", "/staff", nil); !strings.Contains(body, "Withdraw invitation to cy@example.com") {
		t.Error("the open invitation is not listed")
	}

	c := e.client()
	res, body = e.do(c, "GET", "/invite?token="+tok, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Welcome, Cy") {
		t.Fatalf("invite page: %d", res.StatusCode)
	}
	res, body = e.do(c, "POST", "/invite", url.Values{"token": {tok}, "password": {"short"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "at least 12 characters") {
		t.Fatalf("short password: %d", res.StatusCode)
	}
	res, _ = e.do(c, "POST", "/invite", url.Values{"token": {tok}, "password": {"cy's own long password"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d", res.StatusCode)
	}
	if res, _ = e.do(c, "GET", "/inquiries", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("signed in after accepting: %d", res.StatusCode)
	}
	u, err := e.db.UserByEmail(t.Context(), "cy@example.com")
	if err != nil || u.Role != db.RoleViewer || u.Name != "Cy" {
		t.Fatalf("account: %+v %v", u, err)
	}
	// Single use.
	if res, _ = e.do(e.client(), "GET", "/invite?token="+tok, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("a used invitation still opens: %d", res.StatusCode)
	}
	if res, _ = e.do(e.client(), "POST", "/invite", url.Values{"token": {tok}, "password": {"another long password"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("a used invitation is accepted again: %d", res.StatusCode)
	}
	e.signIn("cy@example.com", "cy's own long password")
}

func TestInvitationExpiresAndCanBeWithdrawn(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	admin := e.signIn("admin@example.com", pw)
	e.do(admin, "POST", "/staff", url.Values{"name": {"Di"}, "email": {"di@example.com"}, "role": {"agent"}})
	tok := e.inviteToken("di@example.com")
	e.srv.staff.SetClock(func() time.Time { return time.Now().Add(72*time.Hour + time.Minute) })
	if res, body := e.do(e.client(), "GET", "/invite?token="+tok, nil); res.StatusCode != http.StatusNotFound || !strings.Contains(body, "expired") {
		t.Errorf("an invitation older than 72 h opens: %d", res.StatusCode)
	}
	if res, _ := e.do(e.client(), "POST", "/invite", url.Values{"token": {tok}, "password": {"di's own long password"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("an invitation older than 72 h is accepted: %d", res.StatusCode)
	}
	e.srv.staff.SetClock(time.Now)

	invs, _ := e.db.OpenInvitations(t.Context())
	if len(invs) != 1 {
		t.Fatalf("open invitations: %d", len(invs))
	}
	if res, _ := e.do(admin, "POST", "/staff/invitations/"+itoa(invs[0].ID)+"/revoke", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", res.StatusCode)
	}
	if res, _ := e.do(e.client(), "GET", "/invite?token="+tok, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("a withdrawn invitation opens: %d", res.StatusCode)
	}
	rows, _ := e.db.ListAudit(t.Context(), db.AuditFilter{})
	saw := map[string]bool{}
	for _, a := range rows {
		saw[a.Action+" "+a.Target] = true
	}
	if !saw["user.invite di@example.com"] || !saw["user.invite-revoke di@example.com"] {
		t.Errorf("audit entries: %v", saw)
	}
}

// Under --sso-only a password chosen from an invitation or a reset link does not sign in an
// account that is not break-glass: that would be password sign-in by another door.
func TestSSOOnlyInvitationAndResetDoNotSignIn(t *testing.T) {
	e := newSSOEnv(t, startProvider(t, false), func(c *SSOConfig) { c.Only = true })
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	admin := e.signInBreakGlass(t, "admin@example.com")
	e.do(admin, "POST", "/staff", url.Values{"name": {"Cy"}, "email": {"cy@example.com"}, "role": {"agent"}})
	c := e.client()
	res, _ := e.do(c, "POST", "/invite", url.Values{"token": {e.inviteToken("cy@example.com")}, "password": {"cy's own long password"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Fatalf("accept: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, body := e.do(c, "GET", "/login", nil); !strings.Contains(body, "Staff sign in to this console with Sign in with SSO") {
		t.Error("not told to use SSO")
	}
	if res, _ = e.do(c, "GET", "/inquiries", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("an agent was signed in by an invitation under --sso-only: %d", res.StatusCode)
	}
	res, _ = e.do(c, "POST", "/password/reset", url.Values{"token": {e.resetToken("cy@example.com")}, "password": {"cy's newer long password"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Fatalf("reset: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ = e.do(c, "GET", "/inquiries", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("an agent was signed in by a reset under --sso-only: %d", res.StatusCode)
	}
	// A break-glass admin's reset signs in.
	res, _ = e.do(c, "POST", "/password/reset", url.Values{"token": {e.resetToken("admin@example.com")}, "password": {"admin's newer long password"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/inquiries" {
		t.Errorf("admin reset: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}
