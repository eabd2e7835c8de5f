package handlers

import (
	"encoding/hex"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/mail"
)

var previewFrameRe = regexp.MustCompile(`<iframe[^>]*src="(/settings/email/preview/html\?[^"]*)"[^>]*title="Email preview"`)

// The Settings page's HTML preview is a document of its own whose policy lets the email's
// inline styles apply (a srcdoc frame inherits the page's policy, which blocks them) and
// nothing else; only admins, signed in, may open it, and the live preview points at the draft.
func TestEmailSettingsPreviewDocument(t *testing.T) {
	e := newMailTestEnv(t, true)
	m := previewFrameRe.FindStringSubmatch(e.page("/settings"))
	if m == nil {
		t.Fatal("the Settings page has no Email preview frame with its own address")
	}
	src := html.UnescapeString(m[1])
	res, body := e.do(e.admin, "GET", src, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", src, res.StatusCode)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'unsafe-inline'", "img-src data:", "frame-ancestors 'self'", "sandbox"} {
		if !strings.Contains(csp, want) {
			t.Errorf("policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "script-src") || strings.Contains(csp, "allow-scripts") {
		t.Errorf("policy %q allows scripts", csp)
	}
	if got := res.Header.Get("X-Frame-Options"); got != "SAMEORIGIN" {
		t.Errorf("X-Frame-Options %q", got)
	}
	mustContain(t, "the email as sent", body, `style="`, "Acme", `<base target="_blank">`)

	// As the admin types: the preview's frame shows the draft, rendered with the sample data.
	_, frag := e.hx(e.admin, "POST", "/settings/email/preview", url.Values{"subject": {"Hi"}, "text": {"Hi {{.Link}}"},
		"html": {`<p style="color:#123456">Hello {{.FirstName}}</p>`}})
	m = previewFrameRe.FindStringSubmatch(frag)
	if m == nil {
		t.Fatalf("live preview has no frame: %s", frag)
	}
	_, body = e.do(e.admin, "GET", html.UnescapeString(m[1]), nil)
	mustContain(t, "draft", body, `<p style="color:#123456">Hello Pat</p>`)
	bad := "{{.Nope}}"
	res, body = e.do(e.admin, "GET", "/settings/email/preview/html?"+url.Values{"html": {bad}, "sig": {hex.EncodeToString(e.srv.previewSig(bad))}}.Encode(), nil)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "there is no {{.Nope}}") {
		t.Fatalf("bad draft: %d %s", res.StatusCode, body)
	}
	// An address made elsewhere (unsigned, or signed for other HTML) shows nothing of its own on
	// the console's origin, even to a signed-in admin.
	crafted := `<h1>Your session expired: sign in at evil.example</h1>`
	for _, q := range []url.Values{{"html": {crafted}}, {"html": {crafted}, "sig": {hex.EncodeToString(e.srv.previewSig("other"))}}} {
		res, body = e.do(e.admin, "GET", "/settings/email/preview/html?"+q.Encode(), nil)
		if res.StatusCode != http.StatusBadRequest || strings.Contains(body, "evil.example") || !strings.Contains(body, "not made by this console") {
			t.Errorf("crafted preview address: %d %s", res.StatusCode, body)
		}
	}

	// Signed out: the sign-in page, not the email; an agent: refused.
	res, _ = e.do(e.client(), "GET", src, nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("signed out: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	e.addUser("agent@example.com", db.RoleAgent, pw)
	if res, _ = e.do(e.signIn("agent@example.com", pw), "GET", src, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("agent: %d", res.StatusCode)
	}
}

// Sending a test email ends on a page (POST, redirect, GET) that says so; reloading it sends
// nothing more.
func TestTestEmailReloadSendsNothing(t *testing.T) {
	e := newMailTestEnv(t, true)
	res, _ := e.do(e.admin, "POST", "/settings/email/test", url.Values{"test_to": {"ops@example.com"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("test email: %d, want a redirect", res.StatusCode)
	}
	loc := res.Header.Get("Location")
	if n := e.catcher.Count(); n != 1 {
		t.Fatalf("caught %d, want 1", n)
	}
	mustContain(t, "result shown", e.page(loc), "The mail server accepted the test email to ops@example.com.")
	body := e.page(loc) // the reload
	if strings.Contains(body, "accepted the test email") {
		t.Error("the reload repeats the one-time message")
	}
	if n := e.catcher.Count(); n != 1 {
		t.Fatalf("after a reload: caught %d, want 1", n)
	}

	// Refused by the server: nothing was sent, the answer stays on the page.
	e.catcher.SetRefuse(mail.RefusePermanent)
	if res, _ = e.do(e.admin, "POST", "/settings/email/test", url.Values{"test_to": {"ops@example.com"}}); res.StatusCode != http.StatusBadGateway {
		t.Fatalf("refused: %d", res.StatusCode)
	}
}
