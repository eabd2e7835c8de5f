package handlers

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/internal/testkit"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/staff"
)

// These tests sign in against a real OpenID Provider in the test process (mockoidc: discovery,
// keys, authorization code flow with PKCE, signed ID tokens with the person's groups).

var testRoles = staff.RoleMap{"linkdesk-admins": model.Admin, "linkdesk-agents": model.Agent, "linkdesk-viewers": model.Viewer}

// startProvider runs the provider; withEndSession adds an end_session_endpoint to its
// discovery document, as providers that offer sign-out do.
func startProvider(t *testing.T, withEndSession bool) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if withEndSession {
		m.AddMiddleware(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
					next.ServeHTTP(w, r)
					return
				}
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				var doc map[string]any
				json.Unmarshal(rec.Body.Bytes(), &doc)
				doc["end_session_endpoint"] = m.Issuer() + "/logout"
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(doc)
			})
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return m
}

// newSSOEnv is the console with SSO pointed at issuer (mockoidc's client credentials).
func newSSOEnv(t *testing.T, m *mockoidc.MockOIDC, adjust func(*SSOConfig)) *testEnv {
	t.Helper()
	cfg := SSOConfig{Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret, Roles: testRoles}
	if adjust != nil {
		adjust(&cfg)
	}
	return newEnvWith(t, func(c *Config) { c.SSO = cfg })
}

// newEnvWith is newTestEnv with the console's Config adjusted.
func newEnvWith(t *testing.T, adjust func(*Config)) *testEnv {
	t.Helper()
	d := testkit.OpenDB(t)
	ts := httptest.NewUnstartedServer(nil)
	cfg := Config{BaseURL: "http://" + ts.Listener.Addr().String()}
	adjust(&cfg)
	srv, _ := newServer(t, cfg, d, inquiry.Settings{}, testkit.Discard(), wiring{})
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return &testEnv{t: t, db: d, srv: srv, ts: ts}
}

// ssoFlow is one "Sign in with SSO": the console's redirect to the provider, the provider's
// answer, and the callback. tamper, when set, edits the authorization request first.
type ssoFlow struct {
	authURL  *url.URL // the console's request to the provider
	callback string   // the provider's answer, a path on the console
}

func (e *testEnv) startSSO(c *http.Client, tamper func(url.Values)) ssoFlow {
	e.t.Helper()
	res, body := e.do(c, "GET", "/auth/oidc/start", nil)
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("start: %d %s", res.StatusCode, body)
	}
	au, _ := url.Parse(res.Header.Get("Location"))
	q := au.Query()
	if tamper != nil {
		tamper(q)
		au.RawQuery = q.Encode()
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	pres, err := noFollow.Get(au.String())
	if err != nil {
		e.t.Fatal(err)
	}
	pres.Body.Close()
	cb, _ := url.Parse(pres.Header.Get("Location"))
	if pres.StatusCode != http.StatusFound || !strings.HasSuffix(cb.Path, "/auth/oidc/callback") {
		e.t.Fatalf("provider answered %d %q", pres.StatusCode, cb)
	}
	return ssoFlow{authURL: au, callback: cb.RequestURI()}
}

// signInSSO runs the whole flow as person and returns the callback's answer.
func (e *testEnv) signInSSO(m *mockoidc.MockOIDC, c *http.Client, person *mockoidc.MockUser) (*http.Response, string) {
	e.t.Helper()
	m.QueueUser(person)
	f := e.startSSO(c, nil)
	return e.do(c, "GET", f.callback, nil)
}

func TestSSOSignInWithTheMappedRole(t *testing.T) {
	m := startProvider(t, false)
	e := newSSOEnv(t, m, nil)
	e.addUser("admin@example.com", db.RoleAdmin, pw)

	res, body := e.do(e.client(), "GET", "/login", nil)
	if !strings.Contains(body, ">Sign in with SSO</button>") || !strings.Contains(body, "Forgot password?") {
		t.Fatalf("sign-in page without the SSO button: %d", res.StatusCode)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+m.Addr()) {
		t.Errorf("form-action does not allow the provider: %s", csp)
	}

	c := e.client()
	m.QueueUser(&mockoidc.MockUser{Subject: "sam-1", Email: "sam@example.com", EmailVerified: true, Groups: []string{"linkdesk-viewers", "linkdesk-admins", "marketing"}})
	f := e.startSSO(c, nil)
	q := f.authURL.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" {
		t.Fatalf("the authorization request lacks PKCE, state or nonce: %s", f.authURL)
	}
	if q.Get("redirect_uri") != e.ts.URL+"/auth/oidc/callback" {
		t.Errorf("redirect_uri %q", q.Get("redirect_uri"))
	}
	res, body = e.do(c, "GET", f.callback, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/inquiries" {
		t.Fatalf("callback: %d %q %s", res.StatusCode, res.Header.Get("Location"), body)
	}
	if res, _ = e.do(c, "GET", "/settings", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("an SSO admin cannot open Settings: %d", res.StatusCode)
	}
	u, err := e.db.UserByEmail(t.Context(), "sam@example.com")
	if err != nil || u.Role != model.Admin || u.PasswordHash != "" {
		t.Fatalf("just-in-time account: %+v %v", u, err)
	}

	// Decided again at the next sign-in: now only a viewer.
	res, _ = e.signInSSO(m, e.client(), &mockoidc.MockUser{Subject: "sam-1", Email: "sam@example.com", EmailVerified: true, Groups: []string{"linkdesk-viewers"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", res.StatusCode)
	}
	if u, _ = e.db.UserByEmail(t.Context(), "sam@example.com"); u.Role != model.Viewer {
		t.Errorf("role after the groups changed: %s", u.Role)
	}
	if res, _ = e.do(c, "GET", "/settings", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("the first session keeps admin after the provider made them a viewer: %d", res.StatusCode)
	}
	if n, _ := e.db.UserCount(t.Context()); n != 2 {
		t.Errorf("accounts: %d, want 2", n)
	}
	if _, body = e.do(e.signIn("admin@example.com", pw), "GET", "/staff", nil); strings.Count(body, "Signs in with SSO") != 1 {
		t.Error("the Staff page does not mark the one SSO account")
	}
	audit, _ := e.db.ListAudit(t.Context(), db.AuditFilter{Action: "user.sso-sign-in"})
	if len(audit) != 2 || !strings.Contains(audit[0].Detail, "role admin → viewer") || !strings.Contains(audit[1].Detail, "account created") {
		t.Errorf("audit: %+v", audit)
	}
}

func TestSSORefusesAPersonInNoMappedGroup(t *testing.T) {
	m := startProvider(t, false)
	e := newSSOEnv(t, m, nil)
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	c := e.client()
	res, body := e.signInSSO(m, c, &mockoidc.MockUser{Subject: "mo-1", Email: "mo@example.com", EmailVerified: true, Groups: []string{"marketing"}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "in no group that Linkdesk maps to a role") {
		t.Fatalf("refusal: %d %s", res.StatusCode, body)
	}
	if res, _ = e.do(c, "GET", "/inquiries", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("signed in after a refusal: %d", res.StatusCode)
	}
	if n, _ := e.db.UserCount(t.Context()); n != 1 {
		t.Errorf("an account was created for a refused person: %d accounts", n)
	}
	var links int
	e.db.R.QueryRow(`SELECT COUNT(*) FROM oidc_identities`).Scan(&links)
	if links != 0 {
		t.Errorf("an identity was stored for a refused person")
	}
	audit, _ := e.db.ListAudit(t.Context(), db.AuditFilter{Action: "user.sso-refused"})
	if len(audit) != 1 || audit[0].Target != "mo@example.com" || audit[0].Outcome != "refused" || !strings.Contains(audit[0].Detail, "marketing") {
		t.Errorf("audit: %+v", audit)
	}
}

func TestSSOLinksALocalAccountOnlyWithAVerifiedEmail(t *testing.T) {
	m := startProvider(t, false)
	e := newSSOEnv(t, m, nil)
	id := e.addUser("ada@example.com", db.RoleAdmin, pw)

	res, body := e.signInSSO(m, e.client(), &mockoidc.MockUser{Subject: "ada-1", Email: "ada@example.com", EmailVerified: false, Groups: []string{"linkdesk-agents"}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "does not say that this email address is verified") {
		t.Fatalf("unverified email: %d %s", res.StatusCode, body)
	}
	if u, _ := e.db.UserByID(t.Context(), id); u.Role != model.Admin {
		t.Errorf("a refused sign-in changed the account's role to %s", u.Role)
	}
	res, _ = e.signInSSO(m, e.client(), &mockoidc.MockUser{Subject: "ada-1", Email: "ada@example.com", EmailVerified: true, Groups: []string{"linkdesk-admins"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("verified email: %d", res.StatusCode)
	}
	if n, _ := e.db.UserCount(t.Context()); n != 1 {
		t.Errorf("linking created another account: %d", n)
	}
	// Keyed by issuer and subject: the same person with a new email is the same account...
	res, _ = e.signInSSO(m, e.client(), &mockoidc.MockUser{Subject: "ada-1", Email: "ada.new@example.com", EmailVerified: true, Groups: []string{"linkdesk-admins"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("same subject, new email: %d", res.StatusCode)
	}
	if n, _ := e.db.UserCount(t.Context()); n != 1 {
		t.Errorf("a changed email made another account: %d", n)
	}
	// ...and another subject with the linked email is not let in.
	res, body = e.signInSSO(m, e.client(), &mockoidc.MockUser{Subject: "someone-else", Email: "ada@example.com", EmailVerified: true, Groups: []string{"linkdesk-admins"}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "already linked to another identity") {
		t.Errorf("another subject with the same email: %d", res.StatusCode)
	}
}

func TestSSOOnlyKeepsPasswordsForBreakGlassAdmins(t *testing.T) {
	m := startProvider(t, false)
	e := newSSOEnv(t, m, func(c *SSOConfig) { c.Only = true })
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	e.addUser("ada@example.com", db.RoleAgent, pw)
	_, body := e.do(e.client(), "GET", "/login", nil)
	if !strings.Contains(body, "Password sign-in below is only for break-glass admins") {
		t.Error("the sign-in page does not say password sign-in is for break-glass admins")
	}
	res, body := e.do(e.client(), "POST", "/login", url.Values{"email": {"ada@example.com"}, "password": {pw}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "signs in with SSO only") {
		t.Errorf("an agent signed in with a password under --sso-only: %d", res.StatusCode)
	}
	// An admin without two-step sign-in is no break-glass account: the password alone is refused.
	res, _ = e.do(e.client(), "POST", "/login", url.Values{"email": {"admin@example.com"}, "password": {pw}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("an admin without two-step sign-in signed in with a password under --sso-only: %d", res.StatusCode)
	}
	e.signInBreakGlass(t, "admin@example.com")
}

// signInBreakGlass gives the admin email two-step sign-in, which makes it the one kind of
// account --sso-only lets in with a password, and signs it in with its password and a code.
func (e *testEnv) signInBreakGlass(t *testing.T, email string) *http.Client {
	t.Helper()
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	if _, err := e.db.W.Exec("UPDATE users SET totp_secret = ? WHERE email = ?", secret, email); err != nil {
		t.Fatal(err)
	}
	c := e.passwordStep(t, email)
	if res, body := e.verify(t, c, code(t, secret, time.Now())); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("break-glass code: %d %.300s", res.StatusCode, body)
	}
	return c
}

func TestSSOSignOutAtTheProvider(t *testing.T) {
	m := startProvider(t, true)
	e := newSSOEnv(t, m, nil)
	c := e.client()
	if res, _ := e.signInSSO(m, c, &mockoidc.MockUser{Subject: "al-1", Email: "al@example.com", EmailVerified: true, Groups: []string{"linkdesk-agents"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", res.StatusCode)
	}
	res, _ := e.do(c, "POST", "/logout", nil)
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || loc.Host+loc.Path != strings.TrimPrefix(m.Issuer(), "http://")+"/logout" ||
		loc.Query().Get("post_logout_redirect_uri") != e.ts.URL+"/login" || loc.Query().Get("client_id") != m.ClientID {
		t.Fatalf("sign-out goes to %d %s", res.StatusCode, loc)
	}
	if res, _ = e.do(c, "GET", "/inquiries", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the console session survived sign-out: %d", res.StatusCode)
	}
	// A password session signs out locally only.
	e.addUser("pat@example.com", db.RoleAgent, pw)
	pc := e.signIn("pat@example.com", pw)
	if res, _ = e.do(pc, "POST", "/logout", nil); res.Header.Get("Location") != "/login" {
		t.Errorf("a password session's sign-out goes to %q", res.Header.Get("Location"))
	}
}
