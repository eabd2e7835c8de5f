package persona

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "persona_production_s3cr3tvalue"

// newTestClient starts handler and returns a client with fast retries.
func newTestClient(t *testing.T, handler http.HandlerFunc, tweak ...func(*Config)) *Client {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	cfg := Config{
		BaseURL:         srv.URL + "/api/v1/",
		APIKey:          testKey,
		Version:         "2023-01-05", // the bodies below are that version's; TestVersionBodies has the newer ones
		UserAgent:       "linkdesk-test/1",
		RateLimit:       600000,
		MaxRetryElapsed: 2 * time.Second,
		BackoffBase:     time.Millisecond,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	return New(cfg)
}

// recorded is what a test server saw of one request.
type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// recorder collects requests and answers each one with reply.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

func (rc *recorder) handler(reply func(n int, w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		n := len(rc.reqs)
		rc.mu.Unlock()
		reply(n, w, r)
	}
}

func (rc *recorder) all() []recorded {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]recorded(nil), rc.reqs...)
}

func (rc *recorder) last(t *testing.T) recorded {
	t.Helper()
	all := rc.all()
	if len(all) == 0 {
		t.Fatal("no request reached the server")
	}
	return all[len(all)-1]
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Request-Id", "req_test123")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// inquiryJSON is a minimal inquiry document.
func inquiryJSON(id, status string) string {
	return fmt.Sprintf(`{"data":{"type":"inquiry","id":%q,"attributes":{"status":%q}}}`, id, status)
}

func okInquiry(id string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, inquiryJSON(id, "pending")) }
}

func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("request body is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body mismatch\n got: %s\nwant: %s", got, want)
	}
}

func TestRequestHeaders(t *testing.T) {
	var rc recorder
	c := newTestClient(t, rc.handler(okInquiry("inq_1")))
	if _, err := c.GetInquiry(context.Background(), "inq_1", "verifications", "sessions"); err != nil {
		t.Fatal(err)
	}
	r := rc.last(t)
	want := map[string]string{
		"Authorization":   "Bearer " + testKey,
		"Persona-Version": "2023-01-05",
		"Key-Inflection":  "kebab",
		"Content-Type":    "application/json",
		"Accept":          "application/json",
		"User-Agent":      "linkdesk-test/1",
		"Idempotency-Key": "",
	}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if r.Method != "GET" || r.Path != "/api/v1/inquiries/inq_1" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	if r.RawQuery != "include=verifications%2Csessions" {
		t.Errorf("query = %q", r.RawQuery)
	}
}

// TestVersionBodies: from 2025-10-27 fields' keys are not inflected, so the client sends them as
// templates configure them (snake), and asks for the template it was given by default before.
func TestVersionBodies(t *testing.T) {
	for _, v := range []string{"2025-10-27", "2025-12-08"} {
		t.Run(v, func(t *testing.T) {
			var rc recorder
			c := newTestClient(t, rc.handler(okInquiry("inq_1")), func(cfg *Config) { cfg.Version = v })
			if _, err := c.GetInquiry(context.Background(), "inq_1"); err != nil {
				t.Fatal(err)
			}
			r := rc.last(t)
			if r.Header.Get("Persona-Version") != v || r.RawQuery != "include=inquiry-template" {
				t.Errorf("version %q, query %q", r.Header.Get("Persona-Version"), r.RawQuery)
			}
			if _, err := c.UpdateInquiry(context.Background(), "inq_1", UpdateInquiryParams{Fields: map[string]string{"email-address": "a@b.c", "address-street-1": "1 Main St"}}); err != nil {
				t.Fatal(err)
			}
			jsonEqual(t, rc.last(t).Body, `{"data":{"attributes":{"fields":{"email_address":"a@b.c","address_street_1":"1 Main St"}}}}`)
		})
	}
	if err := CheckVersion("2024-01-01"); err == nil || !strings.Contains(err.Error(), "2023-01-05, 2025-10-27, 2025-12-08") {
		t.Errorf("CheckVersion(2024-01-01) = %v, want a refusal naming the versions", err)
	}
}

func TestDefaults(t *testing.T) {
	c := New(Config{APIKey: "k"})
	if c.cfg.BaseURL != DefaultBaseURL || c.cfg.Version != DefaultVersion || c.cfg.Timeout != 15*time.Second ||
		c.cfg.RateLimit != 300 || c.cfg.MaxRetryElapsed != time.Minute || c.cfg.BackoffBase != 5*time.Second {
		t.Errorf("defaults not applied: %+v", c.cfg)
	}
}

func TestAPIKeyNeverInErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens: a network error
	c := New(Config{BaseURL: srv.URL, APIKey: testKey, MaxRetryElapsed: -1})
	_, err := c.GetInquiry(context.Background(), "inq_1")
	if !IsUnavailable(err) {
		t.Fatalf("err = %v, want unavailable", err)
	}
	c2 := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, `{"errors":[{"title":"Token is invalid"}]}`)
	})
	_, err2 := c2.GetInquiry(context.Background(), "inq_1")
	for _, e := range []error{err, err2} {
		if strings.Contains(e.Error(), "s3cr3t") || strings.Contains(Explain(e), "s3cr3t") {
			t.Errorf("API key leaked: %v", e)
		}
	}
	if !IsUnauthorized(err2) {
		t.Errorf("err = %v, want 401", err2)
	}
}

func TestSuccessWithBadJSON(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `<html>`) })
	if _, err := c.GetInquiry(context.Background(), "inq_1"); err == nil || !strings.Contains(err.Error(), "decode") {
		t.Fatalf("err = %v", err)
	}
	if reqs, _ := c.Stats(); reqs != 1 {
		t.Errorf("a bad 200 was retried")
	}
}
