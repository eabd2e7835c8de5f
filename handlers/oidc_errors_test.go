package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/linkdesk/linkdesk/db"
)

func TestSSOErrorsInWords(t *testing.T) {
	m := startProvider(t, false)
	e := newSSOEnv(t, m, nil)
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	person := func() *mockoidc.MockUser {
		return &mockoidc.MockUser{Subject: "al-1", Email: "al@example.com", EmailVerified: true, Groups: []string{"linkdesk-agents"}}
	}

	t.Run("denied consent", func(t *testing.T) {
		c := e.client()
		m.QueueUser(person())
		f := e.startSSO(c, nil)
		res, body := e.do(c, "GET", "/auth/oidc/callback?error=access_denied&state="+f.authURL.Query().Get("state"), nil)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "You did not allow Linkdesk to use your account") {
			t.Errorf("%d %s", res.StatusCode, body)
		}
	})
	t.Run("wrong state", func(t *testing.T) {
		c := e.client()
		m.QueueUser(person())
		f := e.startSSO(c, nil)
		u, _ := url.Parse(f.callback)
		q := u.Query()
		q.Set("state", "forged")
		res, body := e.do(c, "GET", u.Path+"?"+q.Encode(), nil)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "does not belong to a sign-in started in this browser") {
			t.Errorf("%d %s", res.StatusCode, body)
		}
		// Another browser (no flow cookie) replaying a genuine answer gets the same.
		res, _ = e.do(e.client(), "GET", f.callback, nil)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("replayed answer in another browser: %d", res.StatusCode)
		}
	})
	t.Run("another issuer", func(t *testing.T) {
		c := e.client()
		m.QueueUser(person())
		f := e.startSSO(c, nil)
		res, body := e.do(c, "GET", f.callback+"&iss="+url.QueryEscape("https://elsewhere.example"), nil)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "names another identity provider") {
			t.Errorf("%d %s", res.StatusCode, body)
		}
	})
	t.Run("expired or used code", func(t *testing.T) {
		c := e.client()
		m.QueueUser(person())
		used := e.startSSO(c, nil)
		if res, _ := e.do(c, "GET", used.callback, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("first use: %d", res.StatusCode)
		}
		m.QueueUser(person())
		again := e.startSSO(c, nil)
		u, _ := url.Parse(again.callback)
		q := u.Query()
		old, _ := url.Parse(used.callback)
		q.Set("code", old.Query().Get("code"))
		res, body := e.do(c, "GET", u.Path+"?"+q.Encode(), nil)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "expired or was already used") {
			t.Errorf("%d %s", res.StatusCode, body)
		}
	})
	t.Run("nonce not the one sent", func(t *testing.T) {
		c := e.client()
		m.QueueUser(person())
		f := e.startSSO(c, func(q url.Values) { q.Set("nonce", "not-the-browsers") })
		res, body := e.do(c, "GET", f.callback, nil)
		if res.StatusCode != http.StatusBadGateway || !strings.Contains(body, "could not be verified") {
			t.Errorf("%d %s", res.StatusCode, body)
		}
		if res, _ = e.do(c, "GET", "/inquiries", nil); res.StatusCode != http.StatusSeeOther {
			t.Errorf("signed in with another sign-in's token: %d", res.StatusCode)
		}
	})
	audit, _ := e.db.ListAudit(t.Context(), db.AuditFilter{Action: "user.sso-refused"})
	if len(audit) != 6 {
		t.Errorf("refused SSO sign-ins audited: %d, want 6", len(audit))
	}
}

func TestSSOProviderDownAtStart(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	issuer := gone.URL
	gone.Close()
	e := newEnvWith(t, func(c *Config) {
		c.SSO = SSOConfig{Issuer: issuer, ClientID: "linkdesk", ClientSecret: "s", Roles: testRoles}
	})
	e.addUser("ada@example.com", db.RoleAgent, pw)
	res, body := e.do(e.client(), "GET", "/login", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Sign in with SSO") || !strings.Contains(body, "did not answer as expected") {
		t.Fatalf("the sign-in page does not explain the provider is down: %d %s", res.StatusCode, body)
	}
	res, body = e.do(e.client(), "GET", "/auth/oidc/start", nil)
	if res.StatusCode != http.StatusBadGateway || !strings.Contains(body, "Try Sign in with SSO again in a moment") {
		t.Errorf("start while down: %d", res.StatusCode)
	}
	e.signIn("ada@example.com", pw) // passwords still work
}
