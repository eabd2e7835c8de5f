package sandbox

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/internal/testkit"
)

func TestKnobErrorRate(t *testing.T) {
	e := newEnv(t, Options{Knobs: Knobs{ErrorRate: 1}})
	for range 10 {
		r := e.call("POST", "/inquiries", exampleCreate(), "Idempotency-Key", "same")
		if r.status != 500 && r.status != 503 {
			t.Fatalf("status %d, want 500 or 503", r.status)
		}
		if r.str("errors.0.title") != "Service unavailable" || r.header.Get("Request-Id") == "" {
			t.Errorf("error body %s", r.raw)
		}
	}
	if st := e.sb.Stats(); st.InjectedErrors != 10 || st.InquiriesCreated != 0 {
		t.Errorf("stats %+v", st)
	}
	// Injected failures happen before the API: the key is still free.
	e.sb.SetKnobs(Knobs{})
	mustStatus(t, e.call("POST", "/inquiries", exampleCreate(), "Idempotency-Key", "same"), 201)
	e.sb.SetKnobs(Knobs{ErrorRate: 0.5})
	fails := 0
	for range 200 {
		if e.call("GET", "/inquiries", nil).status >= 500 {
			fails++
		}
	}
	if fails < 50 || fails > 150 {
		t.Errorf("error rate 0.5: %d of 200 failed", fails)
	}
}

func TestKnobRateLimit(t *testing.T) {
	e := newEnv(t, Options{Knobs: Knobs{RateLimitPerMinute: 3}})
	for i := range 3 {
		r := e.call("GET", "/inquiries", nil)
		mustStatus(t, r, 200)
		if r.header.Get("RateLimit-Limit") != "3" || r.header.Get("RateLimit-Remaining") != itoa(2-i) {
			t.Errorf("request %d: limit %s remaining %s", i+1, r.header.Get("RateLimit-Limit"), r.header.Get("RateLimit-Remaining"))
		}
	}
	r := e.call("POST", "/inquiries", exampleCreate(), "Idempotency-Key", "rl")
	mustStatus(t, r, 429)
	if r.str("errors.0.title") != "Rate limit exceeded" ||
		r.str("errors.0.details") != "You have hit your rate limit of 3 requests / min. Please reach out to support@withpersona.com if you need this changed." {
		t.Errorf("429 body %s", r.raw)
	}
	reset := r.header.Get("RateLimit-Reset")
	if r.header.Get("RateLimit-Limit") != "3" || r.header.Get("RateLimit-Remaining") != "0" || reset == "" || reset == "0" {
		t.Errorf("429 headers %v", r.header)
	}
	if e.sb.Stats().RateLimited != 1 {
		t.Errorf("stats %+v", e.sb.Stats())
	}
	// 429 is evaluated before idempotency: the key runs once the window allows.
	e.sb.SetKnobs(Knobs{})
	mustStatus(t, e.call("POST", "/inquiries", exampleCreate(), "Idempotency-Key", "rl"), 201)
}

func TestKnobLatency(t *testing.T) {
	e := newEnv(t, Options{Knobs: Knobs{Latency: 150 * time.Millisecond}})
	start := time.Now()
	e.call("GET", "/inquiries", nil)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("answered after %v", d)
	}
}

func TestKnobDuplicateWebhooks(t *testing.T) {
	rc := newReceiver(t, nil)
	e := newEnv(t, Options{WebhookURL: rc.srv.URL, Knobs: Knobs{DuplicateWebhooks: true}})
	e.create(TemplateKYC, "", nil)
	e.create(TemplateKYC, "", nil)
	rs := rc.waitFor(t, "4 deliveries", func(rs []hookReq) bool { return len(rs) >= 4 })
	count := map[any]int{}
	for _, r := range rs {
		count[eventField(t, r, "data.id")]++
	}
	if len(count) != 2 {
		t.Fatalf("%d distinct events", len(count))
	}
	for id, n := range count {
		if n != 2 {
			t.Errorf("event %v delivered %d times", id, n)
		}
	}
}

func TestKnobDropWebhooks(t *testing.T) {
	rc := newReceiver(t, nil)
	e := newEnv(t, Options{WebhookURL: rc.srv.URL, Knobs: Knobs{DropWebhooks: 1}})
	id := e.create(TemplateKYC, "", nil)
	e.sb.Complete(id, true)
	e.waitSettled()
	if n := len(rc.all()); n != 0 {
		t.Errorf("%d webhooks delivered with DropWebhooks 1", n)
	}
	if st := e.sb.Stats(); st.WebhooksDropped != st.Events || st.Events == 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestKnobOutOfOrderWebhooks(t *testing.T) {
	rc := newReceiver(t, nil)
	e := newEnv(t, Options{WebhookURL: rc.srv.URL, Knobs: Knobs{OutOfOrderWebhooks: true}})
	id := e.create(TemplateKYC, "", nil)
	e.sb.Complete(id, true)
	rs := rc.waitFor(t, "7 events", func(rs []hookReq) bool { return len(rs) >= 7 })
	outOfOrder := false
	var prev string
	for _, r := range rs {
		c := eventField(t, r, "data.attributes.created-at").(string)
		if c < prev {
			outOfOrder = true
		}
		prev = c
	}
	if !outOfOrder {
		t.Errorf("events arrived in order: %v", names(t, rs))
	}
	// Every event still arrives exactly once.
	seen := map[any]bool{}
	for _, r := range rs {
		seen[eventField(t, r, "data.id")] = true
	}
	if len(seen) != 7 {
		t.Errorf("%d distinct events", len(seen))
	}
}

func TestAdminKnobs(t *testing.T) {
	e := newEnv(t, Options{})
	res, err := http.Post(e.srv.URL+"/_sandbox/knobs", "application/json",
		strings.NewReader(`{"error-rate":0.25,"rate-limit-per-minute":120,"latency":"20ms","duplicate-webhooks":true}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("POST knobs: %d", res.StatusCode)
	}
	k := e.sb.Knobs()
	if k.ErrorRate != 0.25 || k.RateLimitPerMinute != 120 || k.Latency != 20*time.Millisecond || !k.DuplicateWebhooks {
		t.Errorf("knobs %+v", k)
	}
	// Partial update keeps the rest; numbers are milliseconds.
	res, _ = http.Post(e.srv.URL+"/_sandbox/knobs", "application/json", strings.NewReader(`{"latency":5}`))
	res.Body.Close()
	res, err = http.Get(e.srv.URL + "/_sandbox/knobs")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.NewDecoder(res.Body).Decode(&got)
	res.Body.Close()
	if got["latency"] != "5ms" || got["error-rate"] != 0.25 || got["duplicate-webhooks"] != true {
		t.Errorf("GET knobs %v", got)
	}
	res, _ = http.Post(e.srv.URL+"/_sandbox/knobs", "application/json", strings.NewReader(`{"colour":"red"}`))
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("unknown knob: %d", res.StatusCode)
	}
	e.sb.SetKnobs(Knobs{ErrorRate: 7, DropWebhooks: -1, RateLimitPerMinute: -5})
	if k := e.sb.Knobs(); k.ErrorRate != 1 || k.DropWebhooks != 0 || k.RateLimitPerMinute != 0 {
		t.Errorf("knobs not clamped: %+v", k)
	}
	for _, p := range []string{"/", "/_sandbox/", "/_sandbox/stats", "/_sandbox/webhook"} {
		res, err := http.Get(e.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
		if p == "/" && !strings.Contains(string(body), TemplateKYCManualReview) {
			t.Errorf("index does not list the templates")
		}
	}
	if e.sb.Stats().APICalls != 0 {
		t.Errorf("admin requests counted as API calls")
	}
}

func TestStatsCountCalls(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(TemplateKYC, "", nil)
	e.call("GET", "/inquiries/"+id, nil)
	e.call("GET", "/inquiries?page%5Bsize%5D=100", nil)
	e.call("POST", "/inquiries/"+id+"/generate-one-time-link", nil)
	st := e.sb.Stats()
	if st.APICalls != 4 || st.Calls["GET /inquiries"] != 1 || st.Calls["POST /inquiries"] != 1 ||
		st.Calls["GET /inquiries/{id}"] != 1 || st.Calls["POST /inquiries/{id}/generate-one-time-link"] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestRun(t *testing.T) {
	var logs testkit.Logs
	log := logs.Logger()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, "127.0.0.1:0", Options{}, log) }()
	testkit.Eventually(t, "the start-up log", 5*time.Second, func() bool {
		return strings.Contains(logs.String(), "KYC with manual review")
	})
	out := logs.String()
	for _, want := range []string{TemplateKYC, TemplateKYCManualReview, "name=KYC", "api_base_url=http://127.0.0.1:"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
	if err := Run(context.Background(), "256.0.0.1:bad", Options{}, log); err == nil {
		t.Errorf("Run with a bad address")
	}
}
