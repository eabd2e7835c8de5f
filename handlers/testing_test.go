package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/bulk"
	"github.com/linkdesk/linkdesk/casework"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/internal/testkit"
	"github.com/linkdesk/linkdesk/live"
	"github.com/linkdesk/linkdesk/mail"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona/sandbox"
	"github.com/linkdesk/linkdesk/staff"
)

// testEnv is the real route table over a real SQLite file.
type testEnv struct {
	t   testing.TB
	db  *db.DB
	srv *Server
	ts  *httptest.Server
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	return newTestEnvWith(t, wiring{})
}

func newTestEnvWith(t testing.TB, w wiring) *testEnv {
	t.Helper()
	d := testkit.OpenDB(t)
	ts := httptest.NewUnstartedServer(nil)
	log := testkit.Discard()
	cfg := Config{BaseURL: "http://" + ts.Listener.Addr().String()}
	if w.config != nil {
		w.config(&cfg)
	}
	srv, _ := newServer(t, cfg, d, inquiry.Settings{}, log, w)
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return &testEnv{t: t, db: d, srv: srv, ts: ts}
}

// addUser creates a staff account with a cheap hash (the cost is not what is under test).
func (e *testEnv) addUser(email string, role model.Role, password string) int64 {
	e.t.Helper()
	return testkit.AddUser(e.t, e.db, email, role, password)
}

// client is a browser-like client: cookies kept, redirects not followed, same-origin headers.
func (e *testEnv) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *testEnv) do(c *http.Client, method, path string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	return e.request(c, method, path, form, false)
}

// request sends a browser-like request; hx makes it an htmx one (HX-Request), which gets the
// page's fragment.
func (e *testEnv) request(c *http.Client, method, path string, form url.Values, hx bool) (*http.Response, string) {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, e.ts.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if hx {
		req.Header.Set("HX-Request", "true")
	}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// signIn returns a client signed in as email.
func (e *testEnv) signIn(email, password string) *http.Client {
	e.t.Helper()
	c := e.client()
	res, body := e.do(c, "POST", "/login", url.Values{"email": {email}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sign in as %s: status %d: %s", email, res.StatusCode, body)
	}
	return c
}

// sandboxEnv is the real route table whose inquiry service talks to the built-in Persona
// sandbox over HTTP, with the sandbox's webhooks signed with secret and sent to the console.
type sandboxEnv struct {
	*testEnv
	inq    *inquiry.Service
	sb     *sandbox.Sandbox
	sbURL  string
	secret string
}

// wiring is what a test varies in how the console is put together.
type wiring struct {
	config func(*Config) // adjusts the console's Config before it is built
	limits live.Limits
	log    *slog.Logger // nil: discarded
	// mail, when set, builds the mail side around the hub (the worker publishes to it).
	mail    func(*db.DB, *live.Hub) (inquiry.MailSetup, *mail.Catcher)
	sandbox func(*sandbox.Options) // adjusts the sandbox's options before it starts
	clock   func() time.Time       // two-step codes' clock; nil: the real one
}

// newServer wires the console as cmd/linkdesk/serve.go does: one hub that the inquiry service
// (and the outbox worker) publish to and the server's pages subscribe to; each change makes the
// list's counts recount.
func newServer(t testing.TB, cfg Config, d *db.DB, st inquiry.Settings, log *slog.Logger, w wiring) (*Server, *inquiry.Service) {
	t.Helper()
	hub := live.New(w.limits)
	lister := db.NewLister(d, hub.Version)
	var ms inquiry.MailSetup
	var mailbox *mail.Catcher
	if w.mail != nil {
		ms, mailbox = w.mail(d, hub)
	}
	inq := inquiry.New(d, st, log, inquiry.Deps{Changes: hub, Mail: ms})
	staffSvc := staff.New(d)
	if w.clock != nil {
		staffSvc = staff.NewWithClock(d, w.clock)
	}
	engine := bulk.New(d, inq, log) // its worker is started by the tests that need it
	engine.OnProgress = func(int64) { hub.Touch() }
	cases := casework.New(d, inq, hub, log)
	cases.BaseURL = cfg.BaseURL
	srv, err := New(context.Background(), cfg, Deps{DB: d, Inquiries: inq, Live: hub, Lister: lister, Mailbox: mailbox, Staff: staffSvc, Bulk: engine, Casework: cases, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return srv, inq
}

// newSandboxEnv starts the sandbox and the console; tweak, when not nil, adjusts the service's
// settings (e.g. the client's rate limit) before it is built.
func newSandboxEnv(t testing.TB, knobs sandbox.Knobs, tweak func(*inquiry.Settings)) *sandboxEnv {
	t.Helper()
	return newSandboxEnvWith(t, knobs, tweak, wiring{})
}

func newSandboxEnvWith(t testing.TB, knobs sandbox.Knobs, tweak func(*inquiry.Settings), w wiring) *sandboxEnv {
	t.Helper()
	ctx := context.Background()
	d := testkit.OpenDB(t)
	log := w.log
	if log == nil {
		log = testkit.Discard()
	}
	ts := httptest.NewUnstartedServer(nil)
	consoleURL := "http://" + ts.Listener.Addr().String()

	secret := "wbhsec_test_" + randomHex(8)
	sbs := httptest.NewUnstartedServer(nil)
	sbURL := "http://" + sbs.Listener.Addr().String()
	opts := sandbox.Options{PublicURL: sbURL, WebhookURL: consoleURL + "/webhooks/persona", WebhookSecret: secret, RetryScale: 0.001, Knobs: knobs}
	if w.sandbox != nil {
		w.sandbox(&opts)
	}
	sb := sandbox.New(opts)
	sbs.Config.Handler = sb
	sbs.Start()

	st := inquiry.Settings{APIKey: sandbox.DefaultAPIKey, APIBaseURL: sbURL + "/api/v1", HostedURL: sbURL,
		EnvironmentID: sandbox.EnvironmentID, Dev: true, BackoffBase: 10 * time.Millisecond, MaxRetryElapsed: 5 * time.Second}
	if tweak != nil {
		tweak(&st)
	}
	c := Config{BaseURL: consoleURL, WebhookSecrets: []string{secret}, Dev: true}
	if w.config != nil {
		w.config(&c)
	}
	srv, inq := newServer(t, c, d, st, log, w)
	if err := inq.RegisterTemplates(ctx, []db.Template{{ID: sandbox.TemplateKYC, Name: "KYC"}, {ID: sandbox.TemplateKYCManualReview, Name: "KYC with manual review"}}); err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	// The sandbox stops sending before the console goes away.
	t.Cleanup(func() { sb.Close(); sbs.Close(); srv.CloseStreams(); ts.Close() })
	return &sandboxEnv{testEnv: &testEnv{t: t, db: d, srv: srv, ts: ts}, inq: inq, sb: sb, sbURL: sbURL, secret: secret}
}

// eventually polls cond until it holds or the time is up.
func eventually(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, what, within, cond)
}
