package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
)

const pw = "correct horse battery"

func TestSignIn(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("ada@example.com", db.RoleAgent, pw)

	tests := []struct {
		name, email, password string
		wantStatus            int
		wantText              string
	}{
		{"right password", "ada@example.com", pw, http.StatusSeeOther, ""},
		{"email in other case", "ADA@example.com", pw, http.StatusSeeOther, ""},
		{"wrong password", "ada@example.com", "wrong password!", http.StatusUnprocessableEntity, "The email or password is not right."},
		{"unknown email", "bob@example.com", pw, http.StatusUnprocessableEntity, "The email or password is not right."},
		{"empty", "", "", http.StatusUnprocessableEntity, "Enter your email and password."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.client()
			res, body := e.do(c, "POST", "/login", url.Values{"email": {tt.email}, "password": {tt.password}})
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if !strings.Contains(body, tt.wantText) {
				t.Errorf("body lacks %q", tt.wantText)
			}
			if tt.wantStatus == http.StatusUnprocessableEntity && tt.email != "" && !strings.Contains(body, `value="`+tt.email+`"`) {
				t.Errorf("typed email not kept in the form")
			}
			if tt.wantStatus == http.StatusSeeOther {
				res, _ := e.do(c, "GET", "/inquiries", nil)
				if res.StatusCode != http.StatusOK {
					t.Errorf("after sign-in /inquiries gave %d", res.StatusCode)
				}
			}
		})
	}
}

func TestSignInThrottled(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("ada@example.com", db.RoleAgent, pw)
	c := e.client()
	for i := 0; i < 5; i++ {
		res, _ := e.do(c, "POST", "/login", url.Values{"email": {"ada@example.com"}, "password": {"nope nope nope"}})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d: status %d", i+1, res.StatusCode)
		}
	}
	// Even the right password waits now.
	res, body := e.do(c, "POST", "/login", url.Values{"email": {"ada@example.com"}, "password": {pw}})
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many attempts. Try again in") {
		t.Fatalf("status %d, body lacks the throttle message", res.StatusCode)
	}
	// A minute later it works again.
	e.srv.limiter.setClock(func() time.Time { return time.Now().Add(61 * time.Second) })
	res, _ = e.do(c, "POST", "/login", url.Values{"email": {"ada@example.com"}, "password": {pw}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: status %d", res.StatusCode)
	}
}

func TestSessionRevocation(t *testing.T) {
	tests := []struct {
		name   string
		change url.Values
	}{
		{"disabled", url.Values{"action": {"disable"}}},
		{"role changed", url.Values{"action": {"save"}, "role": {"viewer"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.addUser("admin@example.com", db.RoleAdmin, pw)
			id := e.addUser("ada@example.com", db.RoleAgent, pw)
			admin := e.signIn("admin@example.com", pw)
			agent := e.signIn("ada@example.com", pw)
			if res, _ := e.do(agent, "GET", "/inquiries", nil); res.StatusCode != http.StatusOK {
				t.Fatalf("agent before: %d", res.StatusCode)
			}
			res, body := e.do(admin, "POST", "/staff/"+itoa(id), tt.change)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("update: %d %s", res.StatusCode, body)
			}
			res, _ = e.do(agent, "GET", "/inquiries", nil)
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
				t.Fatalf("agent after %s: status %d location %q, want a redirect to sign-in", tt.name, res.StatusCode, res.Header.Get("Location"))
			}
		})
	}
}

func TestSessionRotatedAtSignIn(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("ada@example.com", db.RoleAgent, pw)
	c := e.signIn("ada@example.com", pw)
	u, _ := url.Parse(e.ts.URL)
	first := c.Jar.Cookies(u)[0].Value
	e.do(c, "POST", "/login", url.Values{"email": {"ada@example.com"}, "password": {pw}})
	second := c.Jar.Cookies(u)[0].Value
	if first == second {
		t.Fatal("the session cookie was not replaced at sign-in")
	}
	// The old cookie no longer signs anyone in.
	old := e.client()
	old.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: first}})
	if res, _ := e.do(old, "GET", "/inquiries", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("old session still works: %d", res.StatusCode)
	}
}

func TestSignOut(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("ada@example.com", db.RoleAgent, pw)
	c := e.signIn("ada@example.com", pw)
	res, _ := e.do(c, "POST", "/logout", url.Values{})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Fatalf("logout: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := e.do(c, "GET", "/inquiries", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("still signed in after sign-out: %d", res.StatusCode)
	}
}

func TestOpenRedirectRefused(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("ada@example.com", db.RoleAgent, pw)
	for next, want := range map[string]string{
		"/staff":               "/staff",
		"/inquiries?x=1":       "/inquiries?x=1",
		"//evil.example/x":     "/inquiries",
		"https://evil.example": "/inquiries",
		"/\\evil.example":      "/inquiries",
		"/./\\evil.example":    "/inquiries",
		"/.//evil.example":     "/evil.example", // cleaned: a path on this site
		"/%2F%2Fevil.example":  "/%2F%2Fevil.example",
		"/a/../staff":          "/staff",
		"":                     "/inquiries",
	} {
		c := e.client()
		res, _ := e.do(c, "POST", "/login", url.Values{"email": {"ada@example.com"}, "password": {pw}, "next": {next}})
		if got := res.Header.Get("Location"); got != want {
			t.Errorf("next=%q: redirected to %q, want %q", next, got, want)
		}
		// htmx sign-in follows HX-Redirect instead.
		res, _ = e.request(e.client(), "POST", "/login", url.Values{"email": {"ada@example.com"}, "password": {pw}, "next": {next}}, true)
		if got := res.Header.Get("HX-Redirect"); got != want {
			t.Errorf("htmx next=%q: HX-Redirect %q, want %q", next, got, want)
		}
		// Already signed in, GET /login?next= redirects at once.
		res, _ = e.do(c, "GET", "/login?next="+url.QueryEscape(next), nil)
		if got := res.Header.Get("Location"); got != want {
			t.Errorf("signed in, GET /login?next=%q: redirected to %q, want %q", next, got, want)
		}
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("ada@example.com", db.RoleAdmin, pw)
	c := e.signIn("ada@example.com", pw)
	req, _ := http.NewRequest("POST", e.ts.URL+"/staff", strings.NewReader(url.Values{"name": {"Eve"}, "email": {"eve@example.com"}, "role": {"admin"}, "password": {"eve's long password"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin POST: %d, want 403", res.StatusCode)
	}
	if _, err := e.db.UserByEmail(req.Context(), "eve@example.com"); err == nil {
		t.Fatal("the cross-origin request created a user")
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newTestEnv(t)
	for _, path := range []string{"/login", "/healthz", "/nope", "/inquiries"} {
		res, _ := e.do(e.client(), "GET", path, nil)
		for h, want := range map[string]string{
			"Content-Security-Policy": "frame-ancestors 'none'",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "same-origin",
		} {
			if !strings.Contains(res.Header.Get(h), want) {
				t.Errorf("%s: %s = %q, want it to contain %q", path, h, res.Header.Get(h), want)
			}
		}
		if strings.Contains(res.Header.Get("Content-Security-Policy"), "unsafe-inline") {
			t.Errorf("%s: CSP allows inline code", path)
		}
	}
}

func TestFirstRunSetup(t *testing.T) {
	e := newTestEnv(t)
	tok, err := e.srv.staff.SetupToken(t.Context())
	if err != nil || tok == "" {
		t.Fatalf("token %q err %v", tok, err)
	}
	c := e.client()
	if res, _ := e.do(c, "GET", "/setup?token=wrong", nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong token: %d", res.StatusCode)
	}
	res, body := e.do(c, "POST", "/setup", url.Values{"token": {tok}, "name": {"Ada"}, "email": {"not-an-email"}, "password": {"short"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Enter an email address") || !strings.Contains(body, `value="Ada"`) {
		t.Fatalf("invalid input: %d", res.StatusCode)
	}
	res, _ = e.do(c, "POST", "/setup", url.Values{"token": {tok}, "name": {"Ada"}, "email": {"ada@example.com"}, "password": {pw}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("setup: %d", res.StatusCode)
	}
	if res, _ := e.do(c, "GET", "/staff", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("the new admin cannot open Staff: %d", res.StatusCode)
	}
	// The link works once.
	if res, _ := e.do(e.client(), "GET", "/setup?token="+tok, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("setup after setup: %d", res.StatusCode)
	}
	if again, _ := e.srv.staff.SetupToken(t.Context()); again != "" {
		t.Fatal("a new setup token was made although an admin exists")
	}
}

func TestErrorPagesStyled(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("ada@example.com", db.RoleAgent, pw)
	c := e.signIn("ada@example.com", pw)
	for _, tt := range []struct {
		method, path string
		status       int
		text         string
	}{
		{"GET", "/no/such/page", http.StatusNotFound, "Page not found"},
		{"POST", "/healthz", http.StatusMethodNotAllowed, "Not possible here"},
		{"GET", "/staff", http.StatusForbidden, "Not allowed"},
	} {
		var form url.Values
		if tt.method == "POST" {
			form = url.Values{}
		}
		res, body := e.do(c, tt.method, tt.path, form)
		if res.StatusCode != tt.status || !strings.Contains(body, tt.text) || !strings.Contains(body, "<nav") {
			t.Errorf("%s %s: %d, want a styled %d page saying %q", tt.method, tt.path, res.StatusCode, tt.status, tt.text)
		}
	}
}
