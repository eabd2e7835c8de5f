package inquiry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/internal/testkit"
	"github.com/linkdesk/linkdesk/internal/testkit/sandboxkit"
	"github.com/linkdesk/linkdesk/mail"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// mailEnv is the service over a real SQLite file, the built-in Persona sandbox and the mail
// catcher, with a running outbox worker: everything in-process, as in `serve --dev`.
type mailEnv struct {
	t       *testing.T
	svc     *Service
	db      *db.DB
	sb      *sandbox.Sandbox
	sbURL   string
	catcher *mail.Catcher
	worker  *mail.Worker
	changes *changeLog // what the service and the worker told their listeners
}

var mailStaff = model.Actor{ID: 1, Name: "Ann Agent"}

func newMailEnv(t *testing.T) *mailEnv {
	t.Helper()
	ctx := context.Background()
	d := testkit.OpenDB(t)
	if _, err := d.CreateUser(ctx, db.User{Email: "ann@example.com", Name: mailStaff.Name, Role: db.RoleAgent, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}

	sb, sbURL := sandboxkit.Start(t, sandbox.Options{})

	log := testkit.Discard()
	c, err := mail.StartCatcher("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	sender, err := mail.NewSender(mail.Config{URL: c.URL(), From: "Acme <verify@acme.example>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// As serve wires it: the worker tells the same listeners as the service.
	changes := &changeLog{}
	w := &mail.Worker{DB: d, Sender: sender, Rate: -1, Backoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		Poll: 20 * time.Millisecond, Notify: changes.Publish}
	svc := New(d, Settings{APIKey: sandbox.DefaultAPIKey, APIBaseURL: sbURL + "/api/v1", HostedURL: sbURL,
		EnvironmentID: sandbox.EnvironmentID, Company: "Acme", Dev: true}, log, Deps{Changes: changes, Mail: MailSetup{Sender: sender, Worker: w}})
	if err := svc.RegisterTemplates(ctx, []db.Template{{ID: sandbox.TemplateKYC, Name: "KYC"}}); err != nil {
		t.Fatal(err)
	}

	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(wctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &mailEnv{t: t, svc: svc, db: d, sb: sb, sbURL: sbURL, catcher: c, worker: w, changes: changes}
}

// create makes an inquiry for Pat at the sandbox.
func (e *mailEnv) create(ref string) *db.Inquiry {
	e.t.Helper()
	res, err := e.svc.Create(context.Background(), mailStaff, CreateInput{TemplateID: sandbox.TemplateKYC, ReferenceID: ref,
		Fields: map[string]string{"name-first": "Pat", "name-last": "Doe", "email-address": "pat@example.com"}})
	if err != nil || res.Inquiry == nil {
		e.t.Fatalf("create: %v %+v", err, res)
	}
	return res.Inquiry
}

// simulate runs one of the sandbox's simulate actions (start_inquiry, complete_inquiry, ...).
func (e *mailEnv) simulate(id, action string) {
	e.t.Helper()
	body := `{"meta":{"simulate-actions":[{"type":"` + action + `"}]}}`
	req, _ := http.NewRequest("POST", e.sbURL+"/api/v1/inquiries/"+id+"/perform-simulate-actions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+sandbox.DefaultAPIKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		e.t.Fatalf("simulate %s: %d %s", action, res.StatusCode, b)
	}
}

func (e *mailEnv) waitState(id int64, state string) db.OutboxEmail {
	e.t.Helper()
	return testkit.WaitEmail(e.t, e.db, id, state)
}

func TestSendDeliversLinkEmail(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	q := e.create("cust-1")
	e.changes.take() // what the create told

	m, err := e.svc.Send(ctx, mailStaff, q.ID, "pat@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != "link" || m.QueuedBy != mailStaff.ID || m.LinkID == 0 || !strings.HasSuffix(m.MessageID, "@acme.example>") {
		t.Fatalf("queued %+v", m)
	}
	// The inquiry link recorded at creation is the one emailed, not recorded twice.
	links, _ := e.db.Links(ctx, q.ID)
	if len(links) != 1 || links[0].ID != m.LinkID || links[0].Kind != "inquiry" {
		t.Fatalf("links %+v, email's link %d", links, m.LinkID)
	}
	audit, _ := e.db.ListAudit(ctx, db.AuditFilter{Target: q.ID, Action: "email.queue"})
	if len(audit) != 1 || audit[0].Actor != mailStaff.Name || !strings.Contains(audit[0].Detail, "pat@example.com") {
		t.Fatalf("audit %+v", audit)
	}

	sent := e.waitState(m.ID, db.EmailSent)
	if err := e.catcher.Wait(mailWaitCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	got := e.catcher.Messages()[0]
	wantLink := e.sbURL + "/verify?inquiry-id=" + q.ID
	for _, c := range []struct{ what, in, want string }{
		{"subject", got.Subject, "Acme: please verify your identity"},
		{"text greeting", got.Text, "Hi Pat,"},
		{"text link", got.Text, wantLink},
		{"text expiry", got.Text, "The link expires in 2"}, // 23 or 24 hours, by the sandbox clock's rounding
		{"text signature", got.Text, "Ann Agent, Acme"},
		{"html greeting", got.HTML, "Hi Pat,"},
		{"html link", got.HTML, `href="` + wantLink + `"`},
		{"message id", got.MessageID, sent.MessageID},
	} {
		if !strings.Contains(c.in, c.want) {
			t.Errorf("%s: %q does not contain %q", c.what, c.in, c.want)
		}
	}
	if got.To[0] != "pat@example.com" {
		t.Errorf("to %v", got.To)
	}
	if notified := e.changes.take(); len(notified) == 0 || notified[0] != q.ID {
		t.Errorf("change listeners told %v", notified)
	}
}

func TestSendPendingUsesOneTimeLink(t *testing.T) {
	e := newMailEnv(t)
	q := e.create("cust-2")
	e.simulate(q.ID, "start_inquiry")
	m, err := e.svc.Send(context.Background(), mailStaff, q.ID, "pat@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	links, _ := e.db.Links(context.Background(), q.ID)
	if links[0].ID != m.LinkID || links[0].Kind != "one-time" || !strings.Contains(m.BodyText, links[0].URL) {
		t.Fatalf("link %+v in %q", links[0], m.BodyText)
	}
}

func TestSendRefuses(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	q := e.create("cust-3")
	for _, bad := range []string{"", "pat", "Pat <pat@example.com>", "pat@example.com, bo@example.com", "pat@example.com\r\nBcc: x@y.z", "pat@localhost"} {
		if _, err := e.svc.Send(ctx, mailStaff, q.ID, bad, ""); !errors.Is(err, ErrInvalidRecipient) {
			t.Errorf("recipient %q: %v", bad, err)
		}
	}
	if err := e.sb.Complete(q.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Send(ctx, mailStaff, q.ID, "pat@example.com", ""); !errors.Is(err, ErrNoLinkNeeded) {
		t.Fatalf("finished inquiry: %v", err)
	}
	if n, _ := e.db.CountEmailsByState(ctx); n[db.EmailQueued]+n[db.EmailSent] != 0 {
		t.Fatalf("emails queued: %v", n)
	}
}

func TestEmailTemplates(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	errs, err := e.svc.SaveEmailTemplates(ctx, mailStaff, EmailTemplates{
		Subject: "Hello {{.Nope}}",
		Text:    "Hi,\n\nno link here\n",
		HTML:    "<p>\n{{if .FirstName}</p>",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errs["subject"], "there is no {{.Nope}}") || !strings.Contains(errs["text"], "must contain {{.Link}}") ||
		!strings.Contains(errs["html"], "line 2") {
		t.Fatalf("errors %v", errs)
	}

	errs, err = e.svc.SaveEmailTemplates(ctx, mailStaff, EmailTemplates{
		Subject: "{{.Company}} needs you, {{.FirstName}}",
		Text:    "Dear {{.FirstName}},\r\nplease go to {{.Link}}\r\n",
		HTML:    "",
	})
	if err != nil || errs != nil {
		t.Fatalf("save: %v %v", errs, err)
	}
	got, _ := e.svc.EmailTemplates(ctx)
	if got.HTML != mail.DefaultHTML || strings.Contains(got.Text, "\r") {
		t.Fatalf("stored %+v", got)
	}
	if a, _ := e.db.ListAudit(ctx, db.AuditFilter{Action: "settings.email"}); len(a) != 1 || !strings.Contains(a[0].Detail, "subject, text version") {
		t.Fatalf("audit %+v", a)
	}
	q := e.create("cust-4")
	m, err := e.svc.Send(ctx, mailStaff, q.ID, "pat@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Acme needs you, Pat" || !strings.HasPrefix(m.BodyText, "Dear Pat,\nplease go to http") {
		t.Fatalf("sent %q / %q", m.Subject, m.BodyText)
	}
	d, err := e.svc.Preview(ctx, mailStaff, q)
	if err != nil || d.Subject != m.Subject || d.Link == nil || !strings.Contains(d.Text, d.Link.URL) {
		t.Fatalf("preview %+v %v", d, err)
	}

	if err := e.svc.ResetEmailTemplates(ctx, mailStaff); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.EmailTemplates(ctx); got != DefaultEmailTemplates() {
		t.Fatalf("after reset %+v", got)
	}
}

func TestSendTest(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	if err := e.svc.SendTest(ctx, mailStaff, "ops@example.com"); err != nil {
		t.Fatal(err)
	}
	if got := e.catcher.Messages()[0]; got.Subject != "[Test] Acme: please verify your identity" || !strings.Contains(got.Text, "Hi Pat,") {
		t.Fatalf("test email %q %q", got.Subject, got.Text)
	}
	e.catcher.SetRefuse(mail.RefusePermanent)
	err := e.svc.SendTest(ctx, mailStaff, "ops@example.com")
	var te *SendTestError
	if !errors.As(err, &te) || !strings.Contains(te.Words, "550 5.1.1") {
		t.Fatalf("refused: %v", err)
	}
	a, _ := e.db.ListAudit(ctx, db.AuditFilter{Action: "email.test"})
	if len(a) != 2 || a[0].Outcome == "ok" || a[1].Outcome != "ok" {
		t.Fatalf("audit %+v", a)
	}
}

func TestRetryAndCancel(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	q := e.create("cust-5")
	e.catcher.SetRefuseFor(1, mail.RefusePermanent)
	m, err := e.svc.Send(ctx, mailStaff, q.ID, "pat@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	failed := e.waitState(m.ID, db.EmailFailed)
	if !strings.Contains(failed.LastError, "550 5.1.1 Mailbox unavailable") {
		t.Fatalf("last error %q", failed.LastError)
	}
	if _, err := e.svc.CancelEmail(ctx, mailStaff, m.ID); !errors.Is(err, db.ErrEmailState) {
		t.Fatalf("cancel a failed email: %v", err)
	}
	if _, err := e.svc.RetryEmail(ctx, mailStaff, m.ID); err != nil {
		t.Fatal(err)
	}
	e.waitState(m.ID, db.EmailSent)
	a, _ := e.db.ListAudit(ctx, db.AuditFilter{Target: q.ID, Action: "email.retry"})
	if len(a) != 1 || a[0].Actor != mailStaff.Name {
		t.Fatalf("audit %+v", a)
	}
}

func TestParseReminderDays(t *testing.T) {
	for in, want := range map[string]string{"": "[]", "1,3": "[1 3]", " 3, 1 ,1,x,0,-2,14": "[1 3 14]"} {
		if got := fmt.Sprint(ParseReminderDays(in)); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}

func mailWaitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestReusedOneTimeLinkKeepsItsExpiry: Persona hands back an earlier one-time link while it is
// unused; the console once showed it expiring now + the configured time, later than it does.
func TestReusedOneTimeLinkKeepsItsExpiry(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	q := e.create("cust-otl")
	e.simulate(q.ID, "start_inquiry")
	st := e.svc.Settings()
	st.OneTimeLinkTTL = time.Hour // well before the inquiry's own expiry
	e.svc.apply(st)
	first, err := e.svc.NewLink(ctx, mailStaff, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	st.OneTimeLinkTTL = 2 * time.Hour // a later expiry the reused link does not get
	e.svc.apply(st)
	again, err := e.svc.NewLink(ctx, mailStaff, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.URL != first.URL {
		t.Fatalf("Persona made a new link %s (the sandbox reuses an unused one)", again.URL)
	}
	if d := again.ExpiresAt.Sub(first.ExpiresAt); d < -time.Millisecond || d > time.Millisecond { // stored to the millisecond
		t.Errorf("reused link expires %s, want its real expiry %s", again.ExpiresAt, first.ExpiresAt)
	}
}
