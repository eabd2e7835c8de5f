package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/linkdesk/linkdesk/internal/testkit"
	"github.com/linkdesk/linkdesk/internal/testkit/sandboxkit"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// get is curl: one request, its status, headers and body.
func get(t *testing.T, url string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// serveForTest runs serve in-process against the sandbox until the test ends.
func serveForTest(t testing.TB, args ...string) (base string, logs *syncBuffer) {
	t.Helper()
	_, sbURL := sandboxkit.Start(t, sandbox.Options{})
	t.Setenv("LINKDESK_PERSONA_API_KEY", sandbox.DefaultAPIKey)
	addr := freeAddr(t)
	logs = &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, append([]string{"--addr", addr, "--db", filepath.Join(t.TempDir(), "l.db"),
			"--persona-api-url", sbURL + "/api/v1"}, args...), nil, logs)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	base = "http://" + addr
	testkit.Eventually(t, "serve answers /livez", 10*time.Second, func() bool {
		res, err := http.Get(base + "/livez")
		if err == nil {
			res.Body.Close()
		}
		return err == nil && res.StatusCode == 200
	})
	return base, logs
}

// TestMetricsNeedTheToken: /metrics refuses a scrape without the token (401), serves every
// promised metric with it, and promtool's linter finds nothing wrong with the output.
func TestMetricsNeedTheToken(t *testing.T) {
	t.Setenv("LINKDESK_METRICS_TOKEN", "s3cret-metrics-token")
	base, _ := serveForTest(t, "--metrics")

	if code, h, _ := get(t, base+"/metrics"); code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("/metrics without a token: %d %q, want 401 asking for a bearer token", code, h.Get("WWW-Authenticate"))
	}
	if code, _, _ := get(t, base+"/metrics", "Authorization", "Bearer wrong"); code != http.StatusUnauthorized {
		t.Fatalf("/metrics with a wrong token: %d, want 401", code)
	}
	scrape := func() string {
		code, _, body := get(t, base+"/metrics", "Authorization", "Bearer s3cret-metrics-token")
		if code != 200 {
			t.Fatalf("/metrics with the token: %d %s", code, body)
		}
		return body
	}
	get(t, base+"/inquiries") // a request through a route pattern
	// The reconciler's first pass (5 s after start) calls Persona, then records its success: the
	// call shows in the metrics a moment before the pass's time does.
	var body string
	testkit.Eventually(t, "a Persona call and the reconciler's good pass in the metrics", 20*time.Second, func() bool {
		body = scrape()
		return strings.Contains(body, `linkdesk_persona_call_duration_seconds_count{operation="GET /inquiries",status="200"}`) &&
			strings.Contains(body, "linkdesk_reconciler_last_success_timestamp_seconds ") &&
			!strings.Contains(body, "linkdesk_reconciler_last_success_timestamp_seconds 0\n")
	})
	for _, want := range []string{
		`linkdesk_http_request_duration_seconds_bucket{code="303",route="GET /inquiries",le=`,
		`linkdesk_http_request_duration_seconds_count{code="200",route="GET /livez"}`,
		`linkdesk_webhooks_received_total{verdict="applied"} 0`,
		`linkdesk_webhooks_received_total{verdict="bad_signature"} 0`,
		`linkdesk_webhooks_pending 0`,
		`linkdesk_persona_rate_limit_wait_seconds_count `,
		`linkdesk_outbox_backlog 0`,
		`linkdesk_outbox_emails{state="sent"} 0`,
		`linkdesk_outbox_emails{state="failed"} 0`,
		`linkdesk_reconciler_last_success_timestamp_seconds `,
		`linkdesk_reconciler_lag_seconds `,
		`linkdesk_live_streams_open 0`,
		`linkdesk_bulk_rows{outcome="created"} 0`,
		`linkdesk_bulk_rows{outcome="failed"} 0`,
		`go_sql_open_connections{db_name="writer"}`,
		`go_sql_max_open_connections{db_name="readers"}`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// promlint is the linter behind `promtool check metrics`.
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatalf("the metrics do not parse: %v", err)
	}
	for _, p := range problems {
		t.Errorf("metrics lint: %s: %s", p.Metric, p.Text)
	}
}

// TestMetricsOffByDefault: without --metrics there is nothing at /metrics, token or not, and
// --metrics without a token or networks refuses to start.
func TestMetricsOffByDefault(t *testing.T) {
	t.Setenv("LINKDESK_METRICS_TOKEN", "")
	err := runServe(context.Background(), []string{"--metrics", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "l.db")}, nil, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--metrics needs LINKDESK_METRICS_TOKEN or --metrics-allow") {
		t.Fatalf("--metrics without a token: %v", err)
	}
	t.Setenv("LINKDESK_METRICS_TOKEN", "tok")
	base, _ := serveForTest(t)
	if code, _, _ := get(t, base+"/metrics", "Authorization", "Bearer tok"); code != http.StatusNotFound {
		t.Errorf("/metrics without --metrics: %d, want 404", code)
	}
}

// TestMetricsAllowNetwork: an address in --metrics-allow scrapes without the token.
func TestMetricsAllowNetwork(t *testing.T) {
	t.Setenv("LINKDESK_METRICS_TOKEN", "")
	base, _ := serveForTest(t, "--metrics", "--metrics-allow", "127.0.0.0/8")
	if code, _, body := get(t, base+"/metrics"); code != 200 || !strings.Contains(body, "linkdesk_outbox_backlog") {
		t.Errorf("/metrics from an allowed network: %d", code)
	}
}

// TestReadyzAndRequestIDs: /readyz lists its checks; every answer carries a request id, a
// client's own is not taken from an untrusted peer, and the JSON log lines carry it.
func TestReadyzAndRequestIDs(t *testing.T) {
	base, logs := serveForTest(t, "--log-format", "json")
	code, h, body := get(t, base+"/readyz", "X-Request-ID", "client-chosen")
	if code != 200 || !strings.Contains(body, "database writable: ok") || !strings.Contains(body, "migrations applied: ok") || !strings.Contains(body, "not shutting down: ok") {
		t.Fatalf("/readyz: %d %q", code, body)
	}
	id := h.Get("X-Request-ID")
	if id == "" || id == "client-chosen" {
		t.Fatalf("X-Request-ID %q: want one made by the console (the peer is no trusted proxy)", id)
	}
	if code, _, _ := get(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	var found bool
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || !strings.HasPrefix(line, "{") {
			continue
		}
		if rec["msg"] == "request" && rec["path"] == "/readyz" {
			found = rec["request_id"] == id
		}
	}
	if !found {
		t.Errorf("no JSON log line for /readyz with request_id %q:\n%s", id, logs.String())
	}
}
