package handlers

import (
	"encoding/hex"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

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
	res, body = e.do(e.admin, "GET", e.srv.previewURL(e.requestAs(e.admin), bad, time.Now()), nil)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "there is no {{.Nope}}") {
		t.Fatalf("bad draft: %d %s", res.StatusCode, body)
	}
	// An address made elsewhere (unsigned, or signed for other HTML) shows nothing of its own on
	// the console's origin, even to a signed-in admin.
	crafted := `<h1>Your session expired: sign in at evil.example</h1>`
	exp := strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10)
	for _, q := range []url.Values{{"html": {crafted}}, {"html": {crafted}, "exp": {exp}, "sig": {hex.EncodeToString(e.srv.previewSig(cookieSID(e.srv, e.requestAs(e.admin)), exp, "other"))}}} {
		res, body = e.do(e.admin, "GET", "/settings/email/preview/html?"+q.Encode(), nil)
		if res.StatusCode != http.StatusBadRequest || strings.Contains(body, "evil.example") || !strings.Contains(body, "not made by this console for this sign-in") {
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

// requestAs is a request carrying c's cookies, as the console would receive it from c.
func (e *testEnv) requestAs(c *http.Client) *http.Request {
	r := httptest.NewRequest("GET", e.ts.URL+"/settings", nil)
	u, _ := url.Parse(e.ts.URL)
	for _, ck := range c.Jar.Cookies(u) {
		r.AddCookie(ck)
	}
	return r
}

// A signed preview address never expired and worked for anyone signed in as an admin: it works
// for the session it was made for, for a while only.
func TestEmailPreviewAddressBoundAndExpiring(t *testing.T) {
	e := newMailTestEnv(t, true)
	m := previewFrameRe.FindStringSubmatch(e.page("/settings"))
	if m == nil {
		t.Fatal("no preview frame")
	}
	src := html.UnescapeString(m[1])
	if res, _ := e.do(e.admin, "GET", src, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("own session: %d", res.StatusCode)
	}
	// Another sign-in (another admin, or the same one in another browser) gets nothing from it.
	e.addUser("ada2@example.com", db.RoleAdmin, pw)
	if res, body := e.do(e.signIn("ada2@example.com", pw), "GET", src, nil); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "or it has expired") {
		t.Errorf("another admin's session: %d", res.StatusCode)
	}
	old := e.srv.previewURL(e.requestAs(e.admin), "<p>old</p>", time.Now().Add(-previewTTL-time.Second))
	if res, body := e.do(e.admin, "GET", old, nil); res.StatusCode != http.StatusBadRequest || strings.Contains(body, "<p>old</p>") {
		t.Errorf("expired address: %d", res.StatusCode)
	}
}
