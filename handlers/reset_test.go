package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
)

func TestForgotPasswordAnswersTheSame(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("ada@example.com", db.RoleAgent, pw)
	res, body := e.do(e.client(), "GET", "/login", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("sign-in page: %d", res.StatusCode)
	}
	if !strings.Contains(body, `href="/password/forgot">Forgot password?</a>`) {
		t.Error("the sign-in page has no Forgot password? link")
	}
	answer := func(email string) string {
		res, body := e.do(e.client(), "POST", "/password/forgot", url.Values{"email": {email}})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("forgot %s: %d", email, res.StatusCode)
		}
		return strings.ReplaceAll(body, email, "EMAIL")
	}
	if known, unknown := answer("ada@example.com"), answer("nobody@example.com"); known != unknown {
		t.Error("the answer differs for an email with an account and one without")
	}
	emails, _ := e.db.ListEmails(t.Context(), db.OutboxFilter{})
	if len(emails) != 1 || emails[0].Recipient != "ada@example.com" || emails[0].Kind != "staff" {
		t.Fatalf("outbox: %+v", emails)
	}
	res, body = e.do(e.client(), "POST", "/password/forgot", url.Values{"email": {"not an email"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Enter an email address") || !strings.Contains(body, `value="not an email"`) {
		t.Errorf("bad email: %d", res.StatusCode)
	}
}

func TestPasswordResetSignsOutEverySession(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("ada@example.com", db.RoleAgent, pw)
	elsewhere := e.signIn("ada@example.com", pw)
	tok := e.resetToken("ada@example.com")
	var stored int
	e.db.R.QueryRow(`SELECT COUNT(*) FROM password_resets WHERE token_hash = ?`, tok).Scan(&stored)
	if stored != 0 {
		t.Error("the reset token is stored as it is, not only its hash")
	}

	c := e.client()
	res, body := e.do(c, "GET", "/password/reset?token="+tok, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "ada@example.com") {
		t.Fatalf("reset page: %d", res.StatusCode)
	}
	res, body = e.do(c, "POST", "/password/reset", url.Values{"token": {tok}, "password": {"short"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "at least 12 characters") {
		t.Fatalf("short password: %d", res.StatusCode)
	}
	res, _ = e.do(c, "POST", "/password/reset", url.Values{"token": {tok}, "password": {"ada's brand new password"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d", res.StatusCode)
	}
	if res, _ = e.do(c, "GET", "/inquiries", nil); res.StatusCode != http.StatusOK {
		t.Errorf("not signed in after the reset: %d", res.StatusCode)
	}
	if res, _ = e.do(elsewhere, "GET", "/inquiries", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the other session survived the reset: %d", res.StatusCode)
	}
	if res, _ = e.do(e.client(), "POST", "/password/reset", url.Values{"token": {tok}, "password": {"yet another password"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("the reset link worked twice: %d", res.StatusCode)
	}
	e.signIn("ada@example.com", "ada's brand new password")
	if res, _ := e.do(e.client(), "POST", "/login", url.Values{"email": {"ada@example.com"}, "password": {pw}}); res.StatusCode == http.StatusSeeOther {
		t.Error("the old password still signs in")
	}
}

func TestPasswordResetLinkExpiresAfterAnHour(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("ada@example.com", db.RoleAgent, pw)
	tok := e.resetToken("ada@example.com")
	e.srv.staff.SetClock(func() time.Time { return time.Now().Add(time.Hour + time.Second) })
	res, body := e.do(e.client(), "GET", "/password/reset?token="+tok, nil)
	if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "expired") {
		t.Errorf("a reset link older than an hour opens: %d", res.StatusCode)
	}
	if res, _ := e.do(e.client(), "POST", "/password/reset", url.Values{"token": {tok}, "password": {"ada's brand new password"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("a reset link older than an hour works: %d", res.StatusCode)
	}
}

func TestForgotPasswordThrottled(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("ada@example.com", db.RoleAgent, pw)
	for i := 0; i < 5; i++ {
		if res, _ := e.do(e.client(), "POST", "/password/forgot", url.Values{"email": {"x" + itoa(int64(i)) + "@example.com"}}); res.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d", i, res.StatusCode)
		}
	}
	res, body := e.do(e.client(), "POST", "/password/forgot", url.Values{"email": {"ada@example.com"}})
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many requests") {
		t.Errorf("sixth request from one address: %d", res.StatusCode)
	}
	// Sign-in from the same address is not held up by it.
	e.signIn("ada@example.com", pw)
}
