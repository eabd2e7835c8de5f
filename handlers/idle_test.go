package handlers

import (
	"net/http"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// With --idle-timeout under a minute an active user was signed out: the idle clock was touched
// at most once a minute. Time passing is the session row's clock moved back.
func TestShortIdleTimeoutKeepsActiveUser(t *testing.T) {
	e := newSandboxEnvWith(t, sandbox.Knobs{}, nil, wiring{config: func(c *Config) { c.IdleTimeout = 30 * time.Second }})
	e.addUser("vic@example.com", db.RoleViewer, pw)
	c := e.signIn("vic@example.com", pw)
	ago := func(d time.Duration) {
		_, err := e.db.W.Exec("UPDATE sessions SET last_seen_at = last_seen_at - ?, created_at = created_at - ?", d.Milliseconds(), d.Milliseconds())
		noErr(t, err)
	}
	for i := range 6 { // a request every 20 s for two minutes
		ago(20 * time.Second)
		if res, _ := e.do(c, "GET", "/inquiries", nil); res.StatusCode != http.StatusOK {
			t.Fatalf("request %d, 20 s after the one before: %d (signed out)", i+1, res.StatusCode)
		}
	}
	ago(31 * time.Second) // idle past the timeout: signed out
	if res, _ := e.do(c, "GET", "/inquiries", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("after 31 s idle: %d, want the sign-in page", res.StatusCode)
	}
}
