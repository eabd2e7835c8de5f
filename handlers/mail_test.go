package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/internal/testkit"
	"github.com/linkdesk/linkdesk/live"
	"github.com/linkdesk/linkdesk/mail"
	"github.com/linkdesk/linkdesk/model"
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
	res, err := e.inq.Create(context.Background(), model.Actor{ID: u.ID, Name: u.Name}, inquiry.CreateInput{
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

func waitFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
