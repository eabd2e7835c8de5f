package handlers

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/sessions"
	"github.com/linkdesk/linkdesk/db"
)

// "Your account" lists the account's sessions, and "Sign out other sessions" ends every one
// but this browser's.
func TestAccountSessions(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("ada@example.com", db.RoleViewer, pw)
	laptop, phone, third := e.signIn("ada@example.com", pw), e.signIn("ada@example.com", pw), e.signIn("ada@example.com", pw)
	_, body := e.do(laptop, "GET", "/account", nil)
	if n := strings.Count(body, "<tr>") - 1; n != 3 {
		t.Fatalf("sessions listed: %d, want 3", n)
	}
	mustContain(t, "account", body, "This browser", ">Your account<", "Sign out other sessions", "127.0.0.1")
	if strings.Count(body, "This browser") != 1 {
		t.Error("more than one session marked as this browser")
	}
	res, _ := e.do(laptop, "POST", "/account/sessions/end-others", url.Values{})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out others: %d", res.StatusCode)
	}
	_, body = e.do(laptop, "GET", "/account", nil)
	mustContain(t, "after", body, "Signed out 2 other sessions.", "This is your only signed-in session.")
	for _, c := range []*http.Client{phone, third} {
		if res, _ := e.do(c, "GET", "/inquiries", nil); res.StatusCode != http.StatusSeeOther {
			t.Errorf("another session after 'Sign out other sessions': %d, want sign-in", res.StatusCode)
		}
	}
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	_, body = e.do(e.signIn("admin@example.com", pw), "GET", "/audit", nil)
	mustContain(t, "audit", html.UnescapeString(body), "signed out their other sessions", "signed out 2 other sessions")
}

// "Change password" asks for the current one, refuses short, blank and common new ones in words
// (keeping nothing typed), and ends the other sessions; the old password stops working.
func TestChangePassword(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("ada@example.com", db.RoleAgent, pw)
	c, other := e.signIn("ada@example.com", pw), e.signIn("ada@example.com", pw)
	const fresh = "lantern quietly mosaic"
	for _, tc := range []struct{ current, next, confirm, want string }{
		{"wrong password 1", fresh, fresh, "This is not your current password."},
		{pw, fresh, fresh + "x", "This is not the same as the new password."},
		{pw, strings.Repeat(" ", 12), strings.Repeat(" ", 12), "The password cannot be only spaces."},
		{pw, "short", "short", "The password must be at least 12 characters."},
		{pw, "password1234", "password1234", "This password is too common"},
		{pw, "Iloveyou2024!", "Iloveyou2024!", "This password is too common"},
		{pw, "qwertyuiopas", "qwertyuiopas", "This password is too common"},
		{pw, "abcabcabcabc", "abcabcabcabc", "This password is too common"},
		{pw, pw, pw, "The new password must differ from the current one."},
	} {
		res, body := e.do(c, "POST", "/account/password", url.Values{"current": {tc.current}, "new": {tc.next}, "confirm": {tc.confirm}})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%q: %d, want 422", tc.next, res.StatusCode)
		}
		mustContain(t, tc.next, html.UnescapeString(body), tc.want, "Password not changed")
	}
	res, _ := e.do(c, "POST", "/account/password", url.Values{"current": {pw}, "new": {fresh}, "confirm": {fresh}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d", res.StatusCode)
	}
	_, body := e.do(c, "GET", "/account", nil)
	mustContain(t, "after", body, "Password changed. Your other sessions were signed out.")
	if res, _ := e.do(other, "GET", "/inquiries", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the other session after a password change: %d, want sign-in", res.StatusCode)
	}
	if res, _ := e.do(e.client(), "POST", "/login", url.Values{"email": {"ada@example.com"}, "password": {pw}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("the old password: %d, want refused", res.StatusCode)
	}
	e.signIn("ada@example.com", fresh)
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	_, body = e.do(e.signIn("admin@example.com", pw), "GET", "/audit", nil)
	mustContain(t, "audit", html.UnescapeString(body), "ada changed their own password", "1 other session signed out")
}

// The database keeps only a hash of each session id: a cookie made (with the cookie keys)
// from what a copy of the sessions table holds opens nothing, while the real cookie works.
func TestSessionIDsStoredHashed(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("ada@example.com", db.RoleAdmin, pw)
	real := e.signIn("ada@example.com", pw)
	var stored string
	if err := e.db.R.QueryRow(`SELECT id FROM sessions`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	forged := e.client()
	sess := sessions.NewSession(e.srv.cookies, sessionCookie)
	sess.Values["sid"] = stored
	rec := httptest.NewRecorder()
	if err := e.srv.cookies.Save(httptest.NewRequest("GET", "/", nil), rec, sess); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(e.ts.URL)
	forged.Jar.SetCookies(u, rec.Result().Cookies())
	if res, _ := e.do(forged, "GET", "/inquiries", nil); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("a cookie carrying the stored id: %d, want sign-in", res.StatusCode)
	}
	if res, _ := e.do(real, "GET", "/inquiries", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("the real cookie: %d", res.StatusCode)
	}
}
