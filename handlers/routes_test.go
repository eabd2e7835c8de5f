package handlers

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
)

// TestRoleMatrix walks the route table, so a new route cannot escape the check: every route ×
// signed out, viewer, agent, reviewer and admin.
func TestRoleMatrix(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	e.addUser("agent@example.com", db.RoleAgent, pw)
	e.addUser("reviewer@example.com", db.RoleReviewer, pw)
	e.addUser("viewer@example.com", db.RoleViewer, pw)
	clients := []struct {
		name   string
		access Access
		c      *http.Client
	}{
		{"signed out", Public, e.client()},
		{"viewer", Viewer, e.signIn("viewer@example.com", pw)},
		{"agent", Agent, e.signIn("agent@example.com", pw)},
		{"reviewer", Reviewer, e.signIn("reviewer@example.com", pw)},
		{"admin", Admin, e.signIn("admin@example.com", pw)},
	}
	wildcard := regexp.MustCompile(`\{[^}]*\}`)
	for _, rt := range e.srv.Routes() {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		path = wildcard.ReplaceAllString(path, "x")
		if strings.HasSuffix(rt.Pattern, "{$}") || strings.HasSuffix(rt.Pattern, "...}") {
			path = strings.TrimSuffix(path, "x") // not the x of /outbox or /dev/mailbox
		}
		if strings.HasSuffix(path, "/") && path != "/" {
			path += "x"
		}
		if rt.Pattern == "POST /logout" {
			continue // would sign the shared clients out; covered by TestSignOut
		}
		for _, cl := range clients {
			var form url.Values
			if method == "POST" {
				form = url.Values{}
			}
			res, _ := e.do(cl.c, method, path, form)
			// A 401 with WWW-Authenticate is the webhook refusing a bad signature, not sign-in.
			toLogin := res.StatusCode == http.StatusUnauthorized && res.Header.Get("WWW-Authenticate") == "" ||
				(res.StatusCode == http.StatusSeeOther && strings.HasPrefix(res.Header.Get("Location"), "/login"))
			switch {
			case rt.Access == Public:
				if toLogin || res.StatusCode == http.StatusForbidden && !strings.HasPrefix(path, "/setup") {
					t.Errorf("%s as %s: %d, want it public", rt.Pattern, cl.name, res.StatusCode)
				}
			case cl.access == Public:
				if !toLogin {
					t.Errorf("%s signed out: %d, want sign-in required", rt.Pattern, res.StatusCode)
				}
			case cl.access < rt.Access:
				if res.StatusCode != http.StatusForbidden {
					t.Errorf("%s as %s: %d, want 403", rt.Pattern, cl.name, res.StatusCode)
				}
			default:
				if toLogin || res.StatusCode == http.StatusForbidden {
					t.Errorf("%s as %s: %d, want access", rt.Pattern, cl.name, res.StatusCode)
				}
			}
		}
	}
}

func TestStaffManagement(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	admin := e.signIn("admin@example.com", pw)
	res, body := e.do(admin, "POST", "/staff", url.Values{"name": {"Bea"}, "email": {"bea@"}, "role": {"agent"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Enter an email address") || !strings.Contains(body, `value="Bea"`) {
		t.Fatalf("bad email: %d", res.StatusCode)
	}
	res, _ = e.do(admin, "POST", "/staff", url.Values{"name": {"Bea"}, "email": {"bea@example.com"}, "role": {"agent"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("invite: %d", res.StatusCode)
	}
	res, _ = e.do(e.client(), "POST", "/invite", url.Values{"token": {e.inviteToken("bea@example.com")}, "password": {pw}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d", res.StatusCode)
	}
	res, body = e.do(admin, "POST", "/staff", url.Values{"name": {"Bea 2"}, "email": {"BEA@example.com"}, "role": {"agent"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "already exists") {
		t.Fatalf("duplicate email (other case): %d", res.StatusCode)
	}
	e.signIn("bea@example.com", pw)
	// The last admin cannot demote themselves.
	me, _ := e.db.UserByEmail(t.Context(), "admin@example.com")
	res, body = e.do(admin, "POST", "/staff/"+itoa(me.ID), url.Values{"action": {"save"}, "role": {"agent"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "last active admin") {
		t.Fatalf("demoting the last admin: %d", res.StatusCode)
	}
}

func TestStaffEditErrorKeepsTheRowOpen(t *testing.T) {
	e := newTestEnv(t)
	id := e.addUser("admin@example.com", db.RoleAdmin, pw)
	e.addUser("bo@example.com", db.RoleAgent, pw)
	admin := e.signIn("admin@example.com", pw)
	res, body := e.do(admin, "POST", "/staff/"+itoa(id), url.Values{"action": {"save"}, "role": {"viewer"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "is the last active admin") {
		t.Fatalf("status %d", res.StatusCode)
	}
	if !strings.Contains(body, `<details open>`) || !strings.Contains(body, `<option value="viewer" selected>`) {
		t.Error("the edited row is not open with the typed role")
	}
	if u, _ := e.db.UserByID(t.Context(), id); u.Role != db.RoleAdmin {
		t.Errorf("role changed to %s although the change was refused", u.Role)
	}
}
