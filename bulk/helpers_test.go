package bulk

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/mail"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// env is the engine over a real SQLite file, the sandbox over HTTP and the mail catcher with a
// running outbox worker, as in `serve --dev`.
type env struct {
	t       testing.TB
	d       *db.DB
	svc     *inquiry.Service
	sb      *sandbox.Sandbox
	sbURL   string
	catcher *mail.Catcher
	eng     *Engine
}

var staff = model.Actor{ID: 1, Name: "Ann Agent"}

func newEnv(t *testing.T, knobs sandbox.Knobs, rateLimit int) *env {
	return newEnvTB(t, knobs, rateLimit)
}

func newEnvTB(t testing.TB, knobs sandbox.Knobs, rateLimit int) *env {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.CreateUser(ctx, db.User{Email: "ann@example.com", Name: staff.Name, Role: db.RoleAgent, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(nil)
	sbURL := "http://" + hs.Listener.Addr().String()
	sb := sandbox.New(sandbox.Options{PublicURL: sbURL, Knobs: knobs})
	hs.Config.Handler = sb
	hs.Start()
	t.Cleanup(func() { hs.Close(); sb.Close() })

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := mail.StartCatcher("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	sender, err := mail.NewSender(mail.Config{URL: c.URL(), From: "Acme <verify@acme.example>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w := &mail.Worker{DB: d, Sender: sender, Rate: -1, Backoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		Poll: 20 * time.Millisecond}
	svc := inquiry.New(d, inquiry.Settings{APIKey: sandbox.DefaultAPIKey, APIBaseURL: sbURL + "/api/v1", HostedURL: sbURL,
		EnvironmentID: sandbox.EnvironmentID, Company: "Acme", Dev: true, RateLimit: rateLimit, RequireReference: true,
		BackoffBase: 5 * time.Millisecond, MaxRetryElapsed: 2 * time.Second}, log, inquiry.Deps{Mail: inquiry.MailSetup{Sender: sender, Worker: w}})
	if err := svc.RegisterTemplates(ctx, []db.Template{{ID: sandbox.TemplateKYC, Name: "KYC"}}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(wctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	eng := New(d, svc, log)
	eng.Backoff = 10 * time.Millisecond
	return &env{t: t, d: d, svc: svc, sb: sb, sbURL: sbURL, catcher: c, eng: eng}
}

// fullSync reads every inquiry the sandbox has into the cache, as `linkdesk sync --full` does,
// so the guard may decide from the cache (see cacheGuard).
func (e *env) fullSync() {
	e.t.Helper()
	if _, err := e.svc.Reconcile(context.Background(), true, nil); err != nil {
		e.t.Fatalf("full sync: %v", err)
	}
}

// run starts the worker until the test ends.
func (e *env) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.eng.Run(ctx); close(done) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

func (e *env) check(csvText string, o Options) *Checked {
	e.t.Helper()
	f, err := Parse(strings.NewReader(csvText), nil)
	if err != nil {
		e.t.Fatalf("parse: %v", err)
	}
	c, err := e.eng.Check(context.Background(), f, o)
	if err != nil {
		e.t.Fatalf("check: %v", err)
	}
	return c
}

// waitFinished polls the job until it is done or cancelled (a guard against hanging, not a
// timing assertion).
func (e *env) waitFinished(id int64, within time.Duration) *Progress {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		p, err := e.eng.Progress(context.Background(), id)
		if err != nil {
			e.t.Fatal(err)
		}
		if p.Finished {
			return p
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("job %d not finished within %s: %+v", id, within, p.Counts)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) rows(id int64) []db.BulkRow {
	e.t.Helper()
	var out []db.BulkRow
	if err := e.d.BulkRows(context.Background(), id, func(r db.BulkRow) error { out = append(out, r); return nil }); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// simulate runs one of the sandbox's simulate actions (start_inquiry, complete_inquiry, ...).
func (e *env) simulate(id, action string) {
	e.t.Helper()
	body := `{"meta":{"simulate-actions":[{"type":"` + action + `"}]}}`
	req, _ := http.NewRequest("POST", e.sbURL+"/api/v1/inquiries/"+id+"/perform-simulate-actions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+sandbox.DefaultAPIKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		e.t.Fatalf("simulate %s: %d", action, res.StatusCode)
	}
}
