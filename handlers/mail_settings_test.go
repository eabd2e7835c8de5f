package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/mail"
)

func TestEmailSettings(t *testing.T) {
	e := newMailTestEnv(t, true)
	settings := e.page("/settings")
	mustContain(t, "settings", settings, `<label for="f-subject">Subject</label>`, `<label for="f-text">Plain text</label>`,
		`<label for="f-html">HTML</label>`, "Send test email</button>", "127.0.0.1", "Acme &lt;verify@acme.example&gt;",
		"Acme: please verify your identity") // the preview with the sample data

	// The live preview, as htmx asks for it while the admin types.
	res, frag := e.hx(e.admin, "POST", "/settings/email/preview", url.Values{"subject": {"Hello {{.FirstName}} from {{.Company}}"}, "text": {mail.DefaultText}, "html": {""}})
	if res.StatusCode != 200 || strings.Contains(frag, "<html") {
		t.Fatalf("preview: %d", res.StatusCode)
	}
	mustContain(t, "preview", frag, "Hello Pat from Acme", "Hi Pat,")
	_, frag = e.hx(e.admin, "POST", "/settings/email/preview", url.Values{"subject": {"x"}, "text": {"line 1\n{{.Nope}}"}})
	mustContain(t, "preview error", frag, "The text version has an error on line 2: there is no {{.Nope}}")

	res, body := e.do(e.admin, "POST", "/settings/email", url.Values{"subject": {"{{if .FirstName}"}, "text": {"Hi\n{{.Link}}"}, "html": {""}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad wording: %d", res.StatusCode)
	}
	mustContain(t, "422", body, "The subject has an error on line 1", "{{if .FirstName}", "The email wording was not saved")

	res, _ = e.do(e.admin, "POST", "/settings/email", url.Values{"subject": {"Your check with {{.Company}}"}, "text": {"Hi {{.FirstName}}: {{.Link}}"}, "html": {""}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", res.StatusCode)
	}
	q := e.create("cust-7")
	e.waitState(e.send(q, "pat@example.com").ID, db.EmailSent)
	if got := e.catcher.Messages()[0]; got.Subject != "Your check with Acme" || !strings.HasPrefix(got.Text, "Hi Pat: http") {
		t.Fatalf("sent with the new wording: %q %q", got.Subject, got.Text)
	}

	res, _ = e.do(e.admin, "POST", "/settings/email/test", url.Values{"test_to": {"ops@example.com"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("test email: %d", res.StatusCode)
	}
	mustContain(t, "test ok", e.page(res.Header.Get("Location")), "The mail server accepted the test email to ops@example.com.")
	e.catcher.SetRefuse(mail.RefusePermanent)
	res, body = e.do(e.admin, "POST", "/settings/email/test", url.Values{"test_to": {"ops@example.com"}})
	if res.StatusCode != http.StatusBadGateway {
		t.Fatalf("refused test email: %d", res.StatusCode)
	}
	mustContain(t, "test refused", body, "The test email was not sent. The mail server refused the message permanently: 550 5.1.1 Mailbox unavailable")
	res, body = e.do(e.admin, "POST", "/settings/email/test", url.Values{"test_to": {"ops"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `value="ops"`) {
		t.Fatalf("bad test address: %d", res.StatusCode)
	}

	res, _ = e.do(e.admin, "POST", "/settings/email", url.Values{"action": {"reset"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d", res.StatusCode)
	}
	if tm, _ := e.inq.EmailTemplates(context.Background()); tm != inquiry.DefaultEmailTemplates() {
		t.Fatalf("after reset: %+v", tm)
	}
}
