package handlers

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/mail"
)

var hrefRe = regexp.MustCompile(`<a href="([^"]+verify[^"]+)">`)

func TestMailbox(t *testing.T) {
	e := newMailTestEnv(t, true)
	q := e.create("cust-8")
	e.waitState(e.send(q, "pat@example.com").ID, db.EmailSent)
	box := e.page("/dev/mailbox")
	mustContain(t, "mailbox", box, "pat@example.com", `<a href="/dev/mailbox/1">Acme: please verify your identity</a>`)
	msg := e.page("/dev/mailbox/1")
	m := hrefRe.FindStringSubmatch(msg)
	if m == nil || html.UnescapeString(m[1]) != e.sbURL+"/verify?inquiry-id="+q.ID {
		t.Fatalf("no link to follow in the message page: %v", m)
	}
	mustContain(t, "message", msg, `src="/dev/mailbox/1/html"`, `sandbox="allow-popups allow-popups-to-escape-sandbox"`)
	res, body := e.do(e.admin, "GET", "/dev/mailbox/1/html", nil)
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "frame-ancestors 'self'") || strings.Contains(csp, "script") {
		t.Fatalf("html version policy %q", csp)
	}
	mustContain(t, "html version", body, `<base target="_blank">`, "Verify my identity")

	res, _ = e.do(e.admin, "POST", "/dev/mailbox/knobs", url.Values{"refuse": {"temporary"}})
	if r, _, _, _ := e.catcher.Knobs(); res.StatusCode != http.StatusSeeOther || r != mail.RefuseTemporary {
		t.Fatalf("knob: %d %v", res.StatusCode, r)
	}

	// Outside dev mode there is no Mailbox.
	plain := newTestEnv(t)
	plain.addUser("admin@example.com", db.RoleAdmin, pw)
	admin := plain.signIn("admin@example.com", pw)
	for _, p := range []string{"/dev/mailbox", "/dev/mailbox/1", "/dev/mailbox/1/html"} {
		if res, _ := plain.do(admin, "GET", p, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s without dev mode: %d", p, res.StatusCode)
		}
	}
}
