package handlers

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/internal/testkit"
	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// testClock is a clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (e *sandboxEnv) inquiryCount() int {
	e.t.Helper()
	var n int
	if err := e.db.R.QueryRow(`SELECT count(*) FROM inquiries`).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestWebhookRefusesMalformedIDs: an id with a line break once went from a signed webhook into
// the live pages' event stream (event: new, data: <injected htmx>). A signed event with such an
// id is refused with 400 and a reason, and nothing of it is stored.
func TestWebhookRefusesMalformedIDs(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	now := time.Now()
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"inquiry id with a newline", eventBody("evt_inj1", "inq_abc\nevent: new", "inquiry.completed", "completed", now),
			`inquiry id "inq_abc\nevent: new" is malformed`},
		{"event id with a newline", eventBody("evt_inj2\nevent: new\ndata: <div hx-get=/x>", "inq_inj2", "inquiry.completed", "completed", now),
			`event id "evt_inj2\nevent: new\ndata: <div hx-get=/x>" is malformed`},
		{"template id with a newline", bytes.Replace(eventBody("evt_inj3", "inq_inj3", "inquiry.completed", "completed", now),
			[]byte(sandbox.TemplateKYC), []byte(`itmpl_x\nevent: new`), 1), `template id "itmpl_x\nevent: new" is malformed`},
		{"inquiry id of another kind", eventBody("evt_inj4", "act_inj4", "inquiry.completed", "completed", now),
			`inquiry id "act_inj4" is malformed`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, text := e.deliver(tc.body, persona.SignWebhook(e.secret, time.Now(), tc.body))
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d (%s), want 400", res.StatusCode, text)
			}
			if !strings.Contains(text, "signature accepted, but the event is malformed") || !strings.Contains(text, tc.want) {
				t.Errorf("answer %q does not say why (%s)", text, tc.want)
			}
		})
	}

	// A good event afterwards is stored and applied; refusals queued before it are counted by then.
	good := eventBody("evt_injgood", "inq_injgood", "inquiry.completed", "completed", now)
	if res, text := e.deliver(good, persona.SignWebhook(e.secret, time.Now(), good)); res.StatusCode != http.StatusOK {
		t.Fatalf("good event: %d %s", res.StatusCode, text)
	}
	eventually(t, "good event applied", 5*time.Second, func() bool { return e.cachedStatus("inq_injgood") == "completed" })
	if n := e.counter(db.VerdictMalformed); n != int64(len(tests)) {
		t.Errorf("malformed counted %d times, want %d", n, len(tests))
	}
	evs, err := e.db.RecentWebhookEvents(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].ID != "evt_injgood" {
		t.Errorf("stored events %+v, want only evt_injgood", evs)
	}
	if n := e.inquiryCount(); n != 1 {
		t.Errorf("%d inquiries cached, want only the good one", n)
	}
}

// TestWebhookFutureEventDoesNotPin: an event dated a year ahead once won every later "is this
// newer" comparison, so the inquiry's real status never showed again. Its version is clamped to
// the receive time plus the signature tolerance, so the real update ten minutes later wins.
func TestWebhookFutureEventDoesNotPin(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	clk := &testClock{now: time.Now().Truncate(time.Millisecond)}
	e.srv.webhooks.mu.Lock()
	e.srv.webhooks.clock = clk.Now
	e.srv.webhooks.mu.Unlock()
	t0 := clk.Now()

	future := eventBody("evt_future1", "inq_future", "inquiry.completed", "completed", t0.AddDate(1, 0, 0))
	if res, text := e.deliver(future, persona.SignWebhook(e.secret, t0, future)); res.StatusCode != http.StatusOK {
		t.Fatalf("future event: %d %s", res.StatusCode, text)
	}
	eventually(t, "future event applied", 5*time.Second, func() bool { return e.cachedStatus("inq_future") == "completed" })
	q, err := e.db.GetInquiry(context.Background(), "inq_future")
	if err != nil {
		t.Fatal(err)
	}
	if limit := t0.Add(persona.DefaultWebhookTolerance); q.VersionAt.After(limit) {
		t.Errorf("version %s is beyond receipt plus tolerance (%s)", q.VersionAt, limit)
	}

	clk.Add(10 * time.Minute)
	t1 := clk.Now()
	real := eventBody("evt_future2", "inq_future", "inquiry.approved", "approved", t1)
	if res, text := e.deliver(real, persona.SignWebhook(e.secret, t1, real)); res.StatusCode != http.StatusOK {
		t.Fatalf("later event: %d %s", res.StatusCode, text)
	}
	verdict := func() string {
		evs, _ := e.db.RecentWebhookEvents(context.Background(), 10)
		for _, ev := range evs {
			if ev.ID == "evt_future2" {
				return ev.Verdict
			}
		}
		return ""
	}
	eventually(t, "later event decided", 5*time.Second, func() bool { v := verdict(); return v != "" && v != db.VerdictReceived })
	if v, st := verdict(), e.cachedStatus("inq_future"); v != db.VerdictApplied || st != "approved" {
		t.Errorf("later event %s, status %s; want applied and approved", v, st)
	}
}

// TestWebhookRefusalWarningsRateLimited: every forged delivery once wrote a warning, so a flood
// of them flooded the log. One line per reason per minute, and the next says how many it held back.
func TestWebhookRefusalWarningsRateLimited(t *testing.T) {
	d := testkit.OpenDB(t)
	var logs testkit.Logs
	log := logs.Logger()
	ts := httptest.NewUnstartedServer(nil)
	secret := "wbhsec_" + randomHex(8)
	srv, _ := newServer(t, Config{BaseURL: "http://" + ts.Listener.Addr().String(), WebhookSecrets: []string{secret}}, d, inquiry.Settings{}, log, wiring{})
	clk := &testClock{now: time.Now()}
	srv.webhooks.clock = clk.Now
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	e := &sandboxEnv{testEnv: &testEnv{t: t, db: d, srv: srv, ts: ts}, secret: secret}

	body := eventBody("evt_flood", "inq_flood", "inquiry.completed", "completed", time.Now())
	forged := persona.SignWebhook("wbhsec_wrong", clk.Now(), body)
	for i := range 100 {
		if res, _ := e.deliver(body, forged); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("request %d: status %d, want 401", i, res.StatusCode)
		}
	}
	if got := logs.Lines(`msg="webhook refused"`); len(got) != 1 {
		t.Fatalf("100 forged deliveries wrote %d warnings, want 1:\n%s", len(got), strings.Join(got, "\n"))
	}

	// Another reason in the same minute has its own line.
	bad := eventBody("evt_flood2", "inq_a\nb", "inquiry.completed", "completed", time.Now())
	if res, _ := e.deliver(bad, persona.SignWebhook(secret, clk.Now(), bad)); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed: status %d", res.StatusCode)
	}
	if got := logs.Lines(`msg="webhook refused" verdict=malformed`); len(got) != 1 {
		t.Fatalf("malformed warnings: %d, want 1", len(got))
	}

	// A minute on, the next forged delivery is logged and says how many were held back.
	clk.Add(time.Minute)
	if res, _ := e.deliver(body, persona.SignWebhook("wbhsec_wrong", clk.Now(), body)); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d", res.StatusCode)
	}
	got := logs.Lines(`msg="webhook refused" verdict=bad_signature`)
	if len(got) != 2 || !strings.Contains(got[1], "suppressed=99") {
		t.Fatalf("warnings after a minute:\n%s\nwant a second line with suppressed=99", strings.Join(got, "\n"))
	}
}
