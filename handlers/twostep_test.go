package handlers

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/pquerna/otp/totp"
)

func newTwoStepEnv(t *testing.T) (*testEnv, *testClock) {
	t.Helper()
	clock := &testClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} // at the start of a 30 s step
	// Wrong codes are throttled (TestTwoStepCodesThrottled); these tests try more than 5.
	return newTestEnvWith(t, wiring{clock: clock.Now, config: func(c *Config) { c.LoginLimit = 50 }}), clock
}

var (
	setupKeyRe = regexp.MustCompile(`id="setup-key" type="text" readonly value="([A-Z2-7]+)"`)
	codesRe    = regexp.MustCompile(`\b[a-z2-7]{5}-[a-z2-7]{5}\b`)
)

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// setUpTwoStep turns two-step sign-in on for the signed-in client c from "Your account" and
// returns the secret and the recovery codes.
func (e *testEnv) setUpTwoStep(t *testing.T, c *http.Client, now time.Time) (string, []string) {
	t.Helper()
	_, body := e.do(c, "GET", "/account", nil)
	mustContain(t, "account", body, "Set up two-step sign-in", "Change password")
	if res, _ := e.do(c, "POST", "/account/two-step", url.Values{}); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/two-step" {
		t.Fatalf("start set-up: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	_, body = e.do(c, "GET", "/account/two-step", nil)
	m := setupKeyRe.FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, "<svg") || !strings.Contains(body, ">Setup key<") {
		t.Fatalf("set-up page has no QR code or setup key: %.2000s", body)
	}
	secret := m[1]
	res, body := e.do(c, "POST", "/account/two-step/confirm", url.Values{"code": {"000000"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "That code is not right") || !strings.Contains(body, secret) {
		t.Fatalf("a wrong first code: %d, want 422 with the set-up shown again", res.StatusCode)
	}
	res, body = e.do(c, "POST", "/account/two-step/confirm", url.Values{"code": {code(t, secret, now)}})
	codes := codesRe.FindAllString(body, -1)
	if res.StatusCode != http.StatusOK || len(unique(codes)) != 10 {
		t.Fatalf("confirm: %d with %d recovery codes, want 200 and 10: %.1000s", res.StatusCode, len(unique(codes)), body)
	}
	return secret, unique(codes)
}

func unique(s []string) []string {
	seen, out := map[string]bool{}, []string(nil)
	for _, v := range s {
		if !seen[v] {
			seen[v], out = true, append(out, v)
		}
	}
	return out
}

// passwordStep signs in with the password only and checks the console asks for the code.
func (e *testEnv) passwordStep(t *testing.T, email string) *http.Client {
	t.Helper()
	c := e.client()
	res, _ := e.do(c, "POST", "/login", url.Values{"email": {email}, "password": {pw}, "next": {"/inquiries?status=pending"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login/two-step" {
		t.Fatalf("password step: %d to %s, want the code asked for", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := e.do(c, "GET", "/inquiries", nil); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("after the password alone /inquiries answered %d, want sign-in", res.StatusCode)
	}
	_, body := e.do(c, "GET", "/login/two-step", nil)
	mustContain(t, "code page", body, ">Authentication code<", ">Verify<")
	return c
}

func (e *testEnv) verify(t *testing.T, c *http.Client, code string) (*http.Response, string) {
	t.Helper()
	res, body := e.do(c, "POST", "/login/two-step", url.Values{"code": {code}})
	return res, html.UnescapeString(body)
}

// A local account with two-step sign-in cannot sign in with its password alone; a code signs
// in once (not again, not the one that confirmed the set-up), one step of skew either way; the
// secret is never shown again and is not stored with the recovery codes in the clear.
func TestTwoStepSignIn(t *testing.T) {
	e, clock := newTwoStepEnv(t)
	e.addUser("ada@example.com", db.RoleAgent, pw)
	secret, codes := e.setUpTwoStep(t, e.signIn("ada@example.com", pw), clock.Now())

	own := e.signInAgain(t, "ada@example.com")
	if res, _ := e.do(own, "GET", "/account/two-step", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("set-up page after set-up: %d, want a redirect", res.StatusCode)
	}
	_, body := e.do(own, "GET", "/account", nil)
	mustNotContain(t, "account page", body, secret, "Setup key", "Set up two-step sign-in")
	mustContain(t, "account page", body, "10 unused recovery codes left")
	var stored string
	e.db.R.QueryRow(`SELECT group_concat(hash) FROM recovery_codes`).Scan(&stored)
	for _, c := range codes {
		if strings.Contains(stored, c) || strings.Contains(stored, strings.ReplaceAll(c, "-", "")) {
			t.Fatalf("recovery code %s stored in the clear", c)
		}
	}

	c := e.passwordStep(t, "ada@example.com")
	if res, body := e.verify(t, c, code(t, secret, clock.Now())); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "used already") {
		t.Fatalf("the code that confirmed the set-up, again: %d, want 422", res.StatusCode)
	}
	clock.Add(30 * time.Second)
	if res, body := e.verify(t, c, "12345"); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "That code is not right") {
		t.Fatalf("a malformed code: %d", res.StatusCode)
	}
	next := code(t, secret, clock.Now().Add(30*time.Second)) // the app's clock a step ahead
	if res, _ := e.verify(t, c, next); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/inquiries?status=pending" {
		t.Fatalf("a code one step ahead: %d to %s, want signed in and sent on", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := e.do(c, "GET", "/inquiries", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("signed in with the code, /inquiries: %d", res.StatusCode)
	}
	// The same code in another browser (seen over a shoulder) is refused, and so is the current
	// one, since a later step's code was used already.
	c2 := e.passwordStep(t, "ada@example.com")
	for _, old := range []string{next, code(t, secret, clock.Now())} {
		if res, _ := e.verify(t, c2, old); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("a used code again: %d, want 422", res.StatusCode)
		}
	}
	clock.Add(90 * time.Second) // now two steps after the last used one
	if res, _ := e.verify(t, c2, code(t, secret, clock.Now().Add(-60*time.Second))); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a code two steps old: %d, want 422", res.StatusCode)
	}
	if res, _ := e.verify(t, c2, code(t, secret, clock.Now().Add(-30*time.Second))); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a code one step old: %d, want signed in", res.StatusCode)
	}

	// A recovery code works once, typed in capitals and without its hyphen too.
	c3 := e.passwordStep(t, "ada@example.com")
	if res, _ := e.verify(t, c3, strings.ToUpper(strings.ReplaceAll(codes[3], "-", ""))); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a recovery code: %d, want signed in", res.StatusCode)
	}
	c4 := e.passwordStep(t, "ada@example.com")
	if res, _ := e.verify(t, c4, codes[3]); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a recovery code used twice: %d, want 422", res.StatusCode)
	}
	_, body = e.do(c3, "GET", "/account", nil)
	mustContain(t, "account page", body, "9 unused recovery codes left")

	e.addUser("admin@example.com", db.RoleAdmin, pw)
	_, body = e.do(e.signIn("admin@example.com", pw), "GET", "/audit", nil)
	mustContain(t, "audit", html.UnescapeString(body), "set up two-step sign-in", "signed in with a code from the authenticator app", "signed in with a recovery code (9 left)")
}

// signInAgain signs in an account with two-step sign-in using a recovery-free path: the
// password, then a code one step later than any used.
func (e *testEnv) signInAgain(t *testing.T, email string) *http.Client {
	t.Helper()
	u, _ := e.db.UserByEmail(t.Context(), email)
	c := e.passwordStep(t, email)
	at := time.Unix((u.TOTPLastStep+1)*30, 0)
	if res, _ := e.verify(t, c, code(t, u.TOTPSecret, at)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in again: %d", res.StatusCode)
	}
	return c
}

// Wrong codes are throttled like wrong passwords: after the free tries, even the right code
// waits.
func TestTwoStepCodesThrottled(t *testing.T) {
	clock := &testClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	e := newTestEnvWith(t, wiring{clock: clock.Now})
	e.srv.limiter.setClock(clock.Now)
	e.addUser("ada@example.com", db.RoleAgent, pw)
	secret, _ := e.setUpTwoStep(t, e.signIn("ada@example.com", pw), clock.Now())
	clock.Add(30 * time.Second)
	c := e.passwordStep(t, "ada@example.com")
	// The wrong first code at set-up counted against this address already.
	for range e.srv.cfg.LoginLimit - 1 {
		if res, _ := e.verify(t, c, "000000"); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("wrong code: %d", res.StatusCode)
		}
	}
	res, body := e.verify(t, c, code(t, secret, clock.Now()))
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many attempts") || res.Header.Get("Retry-After") == "" {
		t.Fatalf("after %d wrong codes: %d, want 429", e.srv.cfg.LoginLimit, res.StatusCode)
	}
	clock.Add(loginBase)
	if res, _ := e.verify(t, c, code(t, secret, clock.Now())); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the wait: %d, want signed in", res.StatusCode)
	}
}

// When admins require two-step sign-in, an account without it sets it up right after its
// password, before it reaches anything; an admin can reset someone's, who then signs in with
// the password and sets it up again.
func TestTwoStepRequiredAndReset(t *testing.T) {
	e, clock := newTwoStepEnv(t)
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	id := e.addUser("ada@example.com", db.RoleAgent, pw)
	admin := e.signIn("admin@example.com", pw)
	_, body := e.do(admin, "GET", "/settings", nil)
	mustContain(t, "settings", body, "Require two-step sign-in for every account")
	if res, _ := e.do(admin, "POST", "/settings/two-step", url.Values{"required": {"yes"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("require: %d", res.StatusCode)
	}

	c := e.client()
	res, _ := e.do(c, "POST", "/login", url.Values{"email": {"ada@example.com"}, "password": {pw}})
	if res.Header.Get("Location") != "/login/two-step" {
		t.Fatalf("password: to %q, want the set-up", res.Header.Get("Location"))
	}
	_, body = e.do(c, "GET", "/login/two-step", nil)
	m := setupKeyRe.FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, "Admins require two-step sign-in") {
		t.Fatalf("no set-up after the password: %.1500s", body)
	}
	if res, _ := e.do(c, "GET", "/account", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("before setting up, /account: %d, want sign-in", res.StatusCode)
	}
	res, body = e.do(c, "POST", "/login/two-step", url.Values{"code": {code(t, m[1], clock.Now())}})
	if res.StatusCode != http.StatusOK || len(unique(codesRe.FindAllString(body, -1))) != 10 {
		t.Fatalf("set-up at sign-in: %d", res.StatusCode)
	}
	if res, _ := e.do(c, "GET", "/inquiries", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("after setting up: /inquiries %d, want signed in", res.StatusCode)
	}

	_, body = e.do(admin, "GET", "/staff", nil)
	mustContain(t, "staff page", body, "Reset two-step sign-in for ada")
	if res, _ := e.do(admin, "POST", "/staff/"+itoa(id)+"/two-step/reset", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d", res.StatusCode)
	}
	c = e.client()
	res, _ = e.do(c, "POST", "/login", url.Values{"email": {"ada@example.com"}, "password": {pw}})
	_, body = e.do(c, "GET", res.Header.Get("Location"), nil)
	mustContain(t, "after the reset", body, "Setup key")

	if res, _ := e.do(admin, "POST", "/settings/two-step", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("no longer require: %d", res.StatusCode)
	}
	_, body = e.do(admin, "GET", "/audit", nil)
	mustContain(t, "audit", html.UnescapeString(body), "changed the two-step sign-in requirement", "reset the two-step sign-in of ada@example.com",
		"two-step sign-in required for every local account", "signed in after setting up two-step sign-in")
}
