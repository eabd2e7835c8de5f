package handlers

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
)

// One account signed in 130 times once held every stream slot: an account keeps at most its cap
// of sessions. Signing in past it ends the session used longest ago (never refuses the sign-in),
// says so in the audit log, and "Your account" lists what is live.
func TestSessionCapPerAccount(t *testing.T) {
	e := newTestEnv(t)
	const limit = 3
	e.srv.staff.SetMaxSessions(limit)
	id := e.addUser("vic@example.com", db.RoleViewer, pw)
	count := func() int {
		var n int
		noErr(t, e.db.R.QueryRow(`SELECT count(*) FROM sessions WHERE user_id = ?`, id).Scan(&n))
		return n
	}
	signedIn := func(c *http.Client) bool {
		res, _ := e.do(c, "GET", "/inquiries", nil)
		return res.StatusCode == http.StatusOK
	}
	first, second, third := e.signIn("vic@example.com", pw), e.signIn("vic@example.com", pw), e.signIn("vic@example.com", pw)
	// As if they signed in two minutes ago; then the first browser is used again, so the second
	// is the one used longest ago.
	_, err := e.db.W.Exec(`UPDATE sessions SET created_at = created_at - 120000, last_seen_at = last_seen_at - 120000 WHERE user_id = ?`, id)
	noErr(t, err)
	if !signedIn(first) {
		t.Fatal("the first browser is signed out before the cap is reached")
	}
	fourth := e.signIn("vic@example.com", pw)
	if signedIn(second) {
		t.Error("the session used longest ago is still accepted after one sign-in past the cap")
	}
	for i, c := range []*http.Client{first, third, fourth} {
		if !signedIn(c) {
			t.Errorf("browser %d was signed out; only the one used longest ago should be", []int{1, 3, 4}[i])
		}
	}
	if n := count(); n != limit {
		t.Errorf("sessions after %d sign-ins: %d, want %d", limit+1, n, limit)
	}
	latest := fourth
	for range 3 {
		latest = e.signIn("vic@example.com", pw)
		if n := count(); n > limit {
			t.Fatalf("sessions: %d, more than the cap of %d", n, limit)
		}
	}
	_, body := e.do(latest, "GET", "/account", nil)
	if n := strings.Count(body, "<tr>") - 1; n != limit {
		t.Errorf("Your account lists %d sessions, want %d", n, limit)
	}
	mustContain(t, "account", body, "An account keeps at most 3 sessions: signing in on one more browser signs out the one used longest ago.")

	e.addUser("admin@example.com", db.RoleAdmin, pw)
	_, body = e.do(e.signIn("admin@example.com", pw), "GET", "/audit", nil)
	body = html.UnescapeString(body)
	mustContain(t, "audit", body, "signed in with every session in use, so the one used longest ago was ended", "an account keeps at most 3 sessions")
	if n := strings.Count(body, "so the one used longest ago was ended"); n != 4 {
		t.Errorf("audit entries for ended sessions: %d, want 4", n)
	}
}
