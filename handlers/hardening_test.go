package handlers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/internal/seed"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// logBuf collects the console's log so a test can measure it: it counts every byte but keeps
// only the first 4 MiB, so a runaway log cannot exhaust the machine before the test fails.
type logBuf struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	total int
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total += len(p)
	if l.buf.Len() < 4<<20 {
		l.buf.Write(p)
	}
	return len(p), nil
}

func (l *logBuf) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newLoggedEnv is the sandbox environment with the console's log kept, at debug level.
func newLoggedEnv(t *testing.T, knobs sandbox.Knobs, cfg func(*Config)) (*sandboxEnv, *logBuf) {
	t.Helper()
	logs := &logBuf{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return newSandboxEnvWith(t, knobs, nil, wiring{log: log, config: cfg}), logs
}

// hangUp writes one raw HTTP request and closes the socket at once, as a closed tab does.
func hangUp(t *testing.T, addr, raw string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
}

func rawPost(path, cookie string, form url.Values) string {
	body := form.Encode()
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n%s\r\n%s",
		path, len(body), cookie, body)
}

func rawGet(path, cookie string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + cookie + "\r\n"
}

// On the old code each of these requests recursed render → serverError → errorPage → render
// until the runtime died of a stack overflow, which kills this test binary: that is the
// failure this test shows there.
func TestHungUpClientsLeaveConsoleAlive(t *testing.T) {
	// A smaller stack limit (still far above what any request needs) makes such a runaway die
	// in seconds rather than after filling 1 GB of stack per request.
	defer debug.SetMaxStack(debug.SetMaxStack(64 << 20))
	e, logs := newLoggedEnv(t, sandbox.Knobs{Latency: 300 * time.Millisecond}, nil)
	e.addUser("ada@example.com", db.RoleAdmin, pw)
	c := e.signIn("ada@example.com", pw)
	u, _ := url.Parse(e.ts.URL)
	cookie := "Cookie: " + sessionCookie + "=" + c.Jar.Cookies(u)[0].Value + "\r\n"
	addr := e.ts.Listener.Addr().String()
	before := strings.Count(logs.String(), "msg=request ")

	sent := 0
	for i := range 40 {
		hangUp(t, addr, rawGet("/login", ""))
		// The hang-up is seen while the password is checked (a few with unknown emails, which cost
		// a full bcrypt comparison; the rest cheaply, so the race detector's run stays short).
		email := "ada@example.com"
		if i%10 == 0 {
			email = fmt.Sprintf("nobody%d@example.com", i)
		}
		hangUp(t, addr, rawPost("/login", "", url.Values{"email": {email}, "password": {"wrong wrong wrong"}}))
		sent += 2
	}
	hangUp(t, addr, rawGet("/no/such/page", ""))
	hangUp(t, addr, rawGet("/setup?token=x", ""))
	// A closed tab while New inquiry waits on a slow Persona, and an aborted export.
	hangUp(t, addr, rawPost("/inquiries", cookie, url.Values{"template_id": {sandbox.TemplateKYC}, "reference_id": {"ref-1"}, "key": {"k1"}}))
	hangUp(t, addr, rawGet("/inquiries/export", cookie))
	sent += 4

	// Every request is done once its access-log line is written.
	eventually(t, "all hung-up requests handled", time.Minute, func() bool {
		return strings.Count(logs.String(), "msg=request ")-before >= sent
	})
	if res, body := e.do(e.client(), "GET", "/healthz", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("/healthz after the hang-ups: %d %s", res.StatusCode, body)
	}
	out := logs.String()
	if n := strings.Count(out, "level=ERROR"); n > 0 {
		t.Errorf("%d error lines for clients that went away:\n%s", n, out)
	}
	if n := logs.Len(); n > 64<<10 {
		t.Errorf("log grew to %d bytes for %d requests", n, sent)
	}
	t.Logf("%d hung-up requests: %d log bytes, %d lines", sent, logs.Len(), strings.Count(out, "\n"))
}

// An export whose download is cancelled part-way ends quietly: no error line, no page. (Whether
// the cancel is seen by the next page's query or by the next write is a race, so on the old code
// this fails only in the runs where the query sees it.)
func TestAbortedExportQuiet(t *testing.T) {
	e, logs := newLoggedEnv(t, sandbox.Knobs{}, nil)
	noErr(t, seed.Inquiries(context.Background(), e.db.W, seed.Options{N: 5000, Now: time.Now(), Span: 60 * 24 * time.Hour, Users: 5, Seed: 3}))
	e.addUser("viewer@example.com", db.RoleViewer, pw)
	c := e.signIn("viewer@example.com", pw)
	for range 3 {
		ctx, cancel := context.WithCancel(t.Context())
		req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+"/inquiries/export", nil)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(res.Body, make([]byte, 4096)); err != nil {
			t.Fatalf("first bytes of the export: %v", err)
		}
		cancel()
		res.Body.Close()
	}
	eventually(t, "the exports end", 10*time.Second, func() bool {
		out := logs.String()
		return strings.Count(out, "path=/inquiries/export")+strings.Count(out, "csv export failed") >= 3
	})
	if n := strings.Count(logs.String(), "level=ERROR"); n > 0 {
		t.Errorf("%d error lines for downloads the client cancelled:\n%s", n, logs.String())
	}
}

// bigForm is a form just over the body limit.
func bigForm(fields url.Values, key string) url.Values { return bigFormOver(fields, key, maxBody) }

// bigFormOver is fields with key's value making the body larger than limit.
func bigFormOver(fields url.Values, key string, limit int64) url.Values {
	fields.Set(key, strings.Repeat("a", int(limit)))
	return fields
}

// An email-wording post over the limit is refused in words and leaves the stored wording as it was.
func TestOversizedEmailWordingRefused(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	c := e.signIn("admin@example.com", pw)
	wording := url.Values{"subject": {"Please verify with Acme, {{.FirstName}}"}, "text": {"Open {{.Link}} to verify."}, "html": {`<p><a href="{{.Link}}">Verify</a></p>`}}
	if res, body := e.do(c, "POST", "/settings/email", wording); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving the wording: %d %s", res.StatusCode, body)
	}
	res, body := e.do(c, "POST", "/settings/email", bigForm(url.Values{"subject": {"x"}}, "text"))
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "This form is too large") || !strings.Contains(body, "nothing was saved") {
		t.Fatalf("oversized wording: %d, want 413 with the reason in words: %.300s", res.StatusCode, body)
	}
	got, err := e.srv.inq.EmailTemplates(t.Context())
	noErr(t, err)
	if got.Subject != wording.Get("subject") || got.Text != wording.Get("text") {
		t.Fatalf("stored wording changed to %+v", got)
	}
	// htmx gets the message as a fragment, with the same status.
	res, body = e.request(c, "POST", "/settings/email", bigForm(url.Values{}, "html"), true)
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "This form is too large") || strings.Contains(body, "<nav") {
		t.Fatalf("htmx oversized wording: %d: %.300s", res.StatusCode, body)
	}
}

// Every route that takes a form refuses one over the limit, before acting on it.
func TestOversizedFormsRefusedEverywhere(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	c := e.signIn("admin@example.com", pw)
	for _, rt := range e.srv.Routes() {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		if method != "POST" || path == "/webhooks/persona" {
			continue
		}
		path = strings.NewReplacer("{id}", "1").Replace(path)
		limit := bodyLimit(httptest.NewRequest(method, path, nil)) // bulk send takes a CSV file
		res, body := e.do(c, method, path, bigFormOver(url.Values{"name": {"Eve"}, "email": {"eve@example.com"}, "role": {"admin"}, "password": {"eve's long password"}, "action": {"save"}}, "note", limit))
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "This form is too large") {
			t.Errorf("POST %s with an oversized form: %d, want 413 in words", path, res.StatusCode)
		}
	}
	if _, err := e.db.UserByEmail(t.Context(), "eve@example.com"); err == nil {
		t.Error("an oversized Add staff form created the account")
	}
	// Still signed in: the oversized POST /logout did nothing either.
	if res, _ := e.do(c, "GET", "/staff", nil); res.StatusCode != http.StatusOK {
		t.Errorf("after the oversized posts /staff gave %d", res.StatusCode)
	}
}
