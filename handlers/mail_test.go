package handlers

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/internal/testkit"
	"github.com/linkdesk/linkdesk/live"
	"github.com/linkdesk/linkdesk/mail"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// mailTestEnv is the real route table in dev mode over a real SQLite file, with the built-in
// Persona sandbox, the mail catcher and a running outbox worker, all in-process.
type mailTestEnv struct {
	*testEnv
	inq     *inquiry.Service
	sb      *sandbox.Sandbox
	sbURL   string
	catcher *mail.Catcher
	admin   *http.Client
}

// newMailTestEnv is the sandbox environment plus the mail catcher and a running outbox worker;
// without smtp the worker has no sender (emails wait).
func newMailTestEnv(t *testing.T, smtp bool) *mailTestEnv {
	t.Helper()
	c, err := mail.StartCatcher("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	var w *mail.Worker
	se := newSandboxEnvWith(t, sandbox.Knobs{}, func(st *inquiry.Settings) { st.Company = "Acme" }, wiring{mail: func(d *db.DB, hub *live.Hub) (inquiry.MailSetup, *mail.Catcher) {
		w = &mail.Worker{DB: d, Rate: -1, Backoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
			Poll: 20 * time.Millisecond, Notify: hub.Publish}
		if smtp {
			if w.Sender, err = mail.NewSender(mail.Config{URL: c.URL(), From: "Acme <verify@acme.example>", Timeout: 5 * time.Second}); err != nil {
				t.Fatal(err)
			}
		}
		return inquiry.MailSetup{Sender: w.Sender, Worker: w}, c
	}})
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(wctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	e := &mailTestEnv{testEnv: se.testEnv, inq: se.inq, sb: se.sb, sbURL: se.sbURL, catcher: c}
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	e.admin = e.signIn("admin@example.com", pw)
	return e
}

// create makes an inquiry for Pat Doe at the sandbox, as the admin.
func (e *mailTestEnv) create(ref string) *db.Inquiry {
	e.t.Helper()
	u, _ := e.db.UserByEmail(context.Background(), "admin@example.com")
	res, err := e.inq.Create(context.Background(), inquiry.Actor{ID: u.ID, Name: u.Name}, inquiry.CreateInput{
		TemplateID: sandbox.TemplateKYC, ReferenceID: ref,
		Fields: map[string]string{"name-first": "Pat", "name-last": "Doe", "email-address": "pat@example.com"},
	})
	if err != nil || res.Inquiry == nil {
		e.t.Fatalf("create: %v %+v", err, res)
	}
	return res.Inquiry
}

// hx sends an htmx request.
func (e *mailTestEnv) hx(c *http.Client, method, path string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	return e.request(c, method, path, form, true)
}

// send posts the Email link form and expects the redirect back to the inquiry.
func (e *mailTestEnv) send(q *db.Inquiry, to string) db.OutboxEmail {
	e.t.Helper()
	res, body := e.do(e.admin, "POST", "/inquiries/"+q.ID+"/email", url.Values{"recipient": {to}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/inquiries/"+q.ID {
		e.t.Fatalf("send: %d %s", res.StatusCode, body)
	}
	emails, err := e.db.ListEmails(context.Background(), db.OutboxFilter{InquiryID: q.ID, Limit: 1})
	if err != nil || len(emails) == 0 {
		e.t.Fatalf("nothing queued: %v", err)
	}
	return emails[0]
}

func (e *mailTestEnv) waitState(id int64, state string) db.OutboxEmail {
	e.t.Helper()
	return testkit.WaitEmail(e.t, e.db, id, state)
}

// outboxSettled fails unless no email is queued or mid-send. An email is marked sent only after
// the catcher accepted it, and claimed (sending) before it is sent, so with none in either state
// the catcher's count is final: nothing more can arrive.
func (e *mailTestEnv) outboxSettled() {
	e.t.Helper()
	counts, err := e.db.CountEmailsByState(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	if counts[db.EmailQueued] != 0 || counts[db.EmailSending] != 0 {
		e.t.Fatalf("outbox: %v, want none queued or sending", counts)
	}
}

// page gets a page as the admin and fails unless it answers 200.
func (e *mailTestEnv) page(path string) string {
	e.t.Helper()
	res, body := e.do(e.admin, "GET", path, nil)
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
	}
	return body
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s does not contain %q", what, w)
		}
	}
}

// stateCell matches the send log's state as people read it.
func stateCell(state string) string {
	return `<span class="badge badge-` + strings.ToLower(state) + `">` + state + `</span>`
}

func TestEmailLinkDelivered(t *testing.T) {
	e := newMailTestEnv(t, true)
	q := e.create("cust-1")
	link := e.sbURL + "/verify?inquiry-id=" + q.ID

	detail := e.page("/inquiries/" + q.ID)
	mustContain(t, "detail page", detail, `<button type="submit">Email link</button>`, "No emails yet.")

	form := e.page("/inquiries/" + q.ID + "/email")
	mustContain(t, "form", form, `<label for="f-recipient">Recipient</label>`, `value="pat@example.com"`,
		"Acme: please verify your identity", html.EscapeString(link), ">Send</button>", ">Copy message</button>",
		`href="mailto:pat@example.com?subject=Acme%3A%20please%20verify%20your%20identity&amp;body=Hi%20Pat%2C%0D%0A`,
		">Open in mail app</a>")
	// htmx asks for the Email section alone, and for the preview as the recipient changes.
	_, frag := e.hx(e.admin, "GET", "/inquiries/"+q.ID+"/email", nil)
	if strings.Contains(frag, "<html") || !strings.Contains(frag, `id="f-recipient"`) {
		t.Fatalf("htmx form is not a fragment")
	}
	_, prev := e.hx(e.admin, "GET", "/inquiries/"+q.ID+"/email/preview?recipient=bo%40example.com", nil)
	mustContain(t, "preview fragment", prev, `href="mailto:bo@example.com?subject=`)

	// A wrong address comes back with the typed value and no email.
	res, body := e.do(e.admin, "POST", "/inquiries/"+q.ID+"/email", url.Values{"recipient": {"pat at example"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad recipient: %d", res.StatusCode)
	}
	mustContain(t, "422 form", body, `value="pat at example"`, `aria-invalid="true"`, "Enter one email address, like name@example.com.")

	m := e.send(q, "pat@example.com")
	sent := e.waitState(m.ID, db.EmailSent)
	if err := e.catcher.Wait(waitFor(t), 1); err != nil {
		t.Fatal(err)
	}
	got := e.catcher.Messages()[0]
	got.Text = strings.ReplaceAll(got.Text, "\r\n", "\n")
	if got.To[0] != "pat@example.com" || got.MessageID != sent.MessageID {
		t.Fatalf("caught %v %s", got.To, got.MessageID)
	}
	for _, c := range []struct{ what, in, want string }{
		{"subject", got.Subject, "Acme: please verify your identity"},
		{"text greeting", got.Text, "Hi Pat,"},
		{"text link", got.Text, "Start here:\n" + link + "\n"},
		{"text expiry", got.Text, "The link expires in 2"}, // 23 or 24 hours, by the sandbox clock's rounding
		{"text signature", got.Text, "admin, Acme"},
		{"html greeting", got.HTML, "<p>Hi Pat,</p>"},
		{"html button", got.HTML, `<a href="` + link + `"`},
		{"html button label", got.HTML, ">Verify my identity</a>"},
	} {
		if !strings.Contains(c.in, c.want) {
			t.Errorf("%s: %q does not contain %q", c.what, c.in, c.want)
		}
	}
	// The link in the email opens the hosted flow.
	res, err := http.Get(link)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("follow the link: %v %v", res, err)
	}
	res.Body.Close()

	detail = e.page("/inquiries/" + q.ID)
	mustContain(t, "detail after sending", detail, stateCell("Sent"), "pat@example.com", "Accepted by the mail server", "admin emailed the link to pat@example.com")
	// Settled: the send log no longer asks for itself.
	if strings.Contains(detail, `hx-trigger="every 3s"`) {
		t.Errorf("send log still polls after delivery")
	}
}

func TestEmailTemporaryRefusalRetriedOnce(t *testing.T) {
	e := newMailTestEnv(t, true)
	q := e.create("cust-2")
	e.catcher.SetRefuseFor(2, mail.RefuseTemporary)
	m := e.send(q, "pat@example.com")
	sent := e.waitState(m.ID, db.EmailSent)
	if sent.Attempts != 3 {
		t.Errorf("attempts %d, want 3", sent.Attempts)
	}
	e.outboxSettled()
	if n := e.catcher.Count(); n != 1 {
		t.Fatalf("caught %d, want 1", n)
	}
	detail := e.page("/inquiries/" + q.ID)
	mustContain(t, "detail", detail, stateCell("Sent"), "<td>3</td>")
}

func TestEmailPermanentRefusalShown(t *testing.T) {
	e := newMailTestEnv(t, true)
	q := e.create("cust-3")
	e.catcher.SetRefuse(mail.RefusePermanent)
	m := e.send(q, "nobody@example.com")
	failed := e.waitState(m.ID, db.EmailFailed)
	if failed.Attempts != 1 {
		t.Errorf("attempts %d, want 1 (a permanent refusal is not retried)", failed.Attempts)
	}
	detail := e.page("/inquiries/" + q.ID)
	mustContain(t, "detail", detail, stateCell("Failed"),
		"The mail server refused the message permanently: 550 5.1.1 Mailbox unavailable", ">Retry</button>")
	outbox := e.page("/outbox?state=failed")
	mustContain(t, "outbox", outbox, "nobody@example.com", "Failed (1)", `href="/inquiries/`+q.ID+`"`)

	// Fixed at the mail server's end: staff retry it.
	e.catcher.SetRefuse(mail.RefuseNone)
	res, body := e.do(e.admin, "POST", "/outbox/"+itoa(m.ID)+"/retry", url.Values{"back": {"/inquiries/" + q.ID}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/inquiries/"+q.ID {
		t.Fatalf("retry: %d %s", res.StatusCode, body)
	}
	e.waitState(m.ID, db.EmailSent)
	audit, _ := e.db.ListAudit(context.Background(), db.AuditFilter{Target: q.ID, Action: "email.retry"})
	if len(audit) != 1 || audit[0].Actor != "admin" {
		t.Fatalf("audit %+v", audit)
	}
}

func TestEmailWaitsWithoutSMTPAndCancel(t *testing.T) {
	e := newMailTestEnv(t, false)
	q := e.create("cust-4")
	mustContain(t, "detail", e.page("/inquiries/"+q.ID), "No mail server is configured")
	res, _ := e.do(e.admin, "POST", "/inquiries/"+q.ID+"/email", url.Values{"recipient": {"pat@example.com"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d", res.StatusCode)
	}
	detail := e.page("/inquiries/" + q.ID)
	mustContain(t, "detail", detail, "It waits there until a mail server is configured.", stateCell("Queued"), ">Cancel</button>")
	emails, _ := e.db.ListEmails(context.Background(), db.OutboxFilter{InquiryID: q.ID})
	res, _ = e.do(e.admin, "POST", "/outbox/"+itoa(emails[0].ID)+"/cancel", url.Values{"back": {"/inquiries/" + q.ID}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", res.StatusCode)
	}
	mustContain(t, "detail after cancel", e.page("/inquiries/"+q.ID), stateCell("Canceled"), "will not go out")
	// Canceling again says where it is instead of failing.
	e.do(e.admin, "POST", "/outbox/"+itoa(emails[0].ID)+"/cancel", url.Values{"back": {"/inquiries/" + q.ID}})
	mustContain(t, "detail after a second cancel", e.page("/inquiries/"+q.ID), "cannot be canceled: it is canceled now")

	// Viewers see the log but cannot send, retry or cancel.
	e.addUser("viewer@example.com", db.RoleViewer, pw)
	viewer := e.signIn("viewer@example.com", pw)
	_, body := e.do(viewer, "GET", "/inquiries/"+q.ID, nil)
	if strings.Contains(body, "Email link</button>") || strings.Contains(body, "/cancel") || !strings.Contains(body, stateCell("Canceled")) {
		t.Errorf("viewer's detail page offers actions or hides the log")
	}
}

func TestEmailFinishedInquiryRefused(t *testing.T) {
	e := newMailTestEnv(t, true)
	q := e.create("cust-5")
	if err := e.sb.Complete(q.ID, true); err != nil {
		t.Fatal(err)
	}
	res, body := e.do(e.admin, "POST", "/inquiries/"+q.ID+"/email", url.Values{"recipient": {"pat@example.com"}})
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("finished: %d", res.StatusCode)
	}
	mustContain(t, "refusal", body, "Nothing was sent: this inquiry is finished")
}

func TestReminderScheduleStopsOnCompletion(t *testing.T) {
	e := newMailTestEnv(t, true)
	ctx := context.Background()
	if err := e.db.SaveTemplate(ctx, db.Template{ID: sandbox.TemplateKYC, Name: "KYC", ReminderDays: "1,3"}, db.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	q := e.create("cust-6")
	mustContain(t, "before any email", e.page("/inquiries/"+q.ID), "Reminders: a fresh link on days 1 and 3 after the first email is delivered")
	first := e.waitState(e.send(q, "pat@example.com").ID, db.EmailSent)
	mustContain(t, "after the first email", e.page("/inquiries/"+q.ID), "Reminders: day 1 planned for "+localTime(first.SentAt.Add(inquiry.ReminderDay)))

	if n, err := e.inq.SendDueReminders(ctx, first.SentAt.Add(inquiry.ReminderDay+time.Minute)); n != 1 || err != nil {
		t.Fatalf("day 1: %d %v", n, err)
	}
	emails, _ := e.db.ListEmails(ctx, db.OutboxFilter{InquiryID: q.ID, Limit: 1})
	e.waitState(emails[0].ID, db.EmailSent)
	reminder := e.catcher.Messages()[0]
	if !strings.Contains(reminder.Text, e.sbURL+"/verify?inquiry-id="+q.ID) {
		t.Fatalf("reminder text %q", reminder.Text)
	}
	detail := e.page("/inquiries/" + q.ID)
	mustContain(t, "after day 1", detail, "day 1 sent, day 3 planned for", "<td>Reminder</td>")

	if err := e.sb.Complete(q.ID, true); err != nil {
		t.Fatal(err)
	}
	if n, err := e.inq.SendDueReminders(ctx, first.SentAt.Add(3*inquiry.ReminderDay+time.Minute)); n != 0 || err != nil {
		t.Fatalf("day 3 after completion: %d %v", n, err)
	}
	e.outboxSettled()
	if n := e.catcher.Count(); n != 2 {
		t.Fatalf("caught %d emails, want 2", n)
	}
	mustContain(t, "after completion", e.page("/inquiries/"+q.ID), "Reminders stopped: the inquiry is")
}

func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// localTime is how a page shows t (to the minute) for the browser to put in the viewer's zone.
func localTime(t time.Time) string {
	m := t.UTC().Truncate(time.Minute)
	return `<time datetime="` + m.Format(time.RFC3339) + `" title="` + when(m) + `" data-local>` + when(m) + `</time>`
}

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

func waitFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// A double click on Send, or the browser sending the POST again, queues one email.
func TestSendTwiceQueuesOnce(t *testing.T) {
	e := newMailTestEnv(t, true)
	q := e.create("usr_twice")
	c := e.admin
	form := url.Values{"recipient": {"pat@example.com"}, "key": {"form-key-1"}}
	for i := 0; i < 2; i++ {
		if res, body := e.do(c, "POST", "/inquiries/"+q.ID+"/email", form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("send %d: %d %s", i+1, res.StatusCode, body)
		}
	}
	es, err := e.db.ListEmails(t.Context(), db.OutboxFilter{InquiryID: q.ID})
	if err != nil || len(es) != 1 {
		t.Fatalf("outbox has %d emails for the inquiry (%v), want 1", len(es), err)
	}
}
