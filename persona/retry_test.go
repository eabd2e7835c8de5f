package persona

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// reply answers requests in sequence with statuses, then with the last one.
func replySequence(statuses ...int) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, r *http.Request) {
		s := statuses[min(n, len(statuses))-1]
		switch {
		case s == -1: // drop the connection: a network error
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		case s == 429:
			w.Header().Set("RateLimit-Limit", "300")
			w.Header().Set("RateLimit-Remaining", "0")
			writeJSON(w, 429, `{"errors":[{"title":"Rate limit exceeded","details":"You have hit your rate limit of 300 requests / min."}]}`)
		case s >= 400:
			writeJSON(w, s, `{"errors":[{"title":"Service unavailable"}]}`)
		default:
			writeJSON(w, s, inquiryJSON("inq_1", "pending"))
		}
	}
}

func TestRetries(t *testing.T) {
	bg := context.Background()
	get := func(c *Client) error { _, err := c.GetInquiry(bg, "inq_1"); return err }
	keyedPost := func(c *Client) error {
		_, err := c.CreateInquiry(bg, CreateInquiryParams{TemplateID: "itmpl_1", IdempotencyKey: "k1"})
		return err
	}
	unkeyedPost := func(c *Client) error {
		_, err := c.CreateInquiry(bg, CreateInquiryParams{TemplateID: "itmpl_1"})
		return err
	}
	keyedAction := func(c *Client) error {
		_, err := c.ApproveInquiry(WithIdempotencyKey(bg, "k2"), "inq_1", "")
		return err
	}
	patch := func(c *Client) error { _, err := c.UpdateInquiry(bg, "inq_1", UpdateInquiryParams{}); return err }
	del := func(c *Client) error { _, err := c.RedactInquiry(bg, "inq_1"); return err }

	tests := []struct {
		name         string
		call         func(*Client) error
		statuses     []int
		maxElapsed   time.Duration
		wantRequests int64
		wantErr      func(error) bool
	}{
		{"GET retried on 503", get, []int{503, 503, 200}, 0, 3, nil},
		{"GET retried on 429", get, []int{429, 200}, 0, 2, nil},
		{"GET retried on network error", get, []int{-1, 200}, 0, 2, nil},
		{"GET not retried on 404", get, []int{404, 200}, 0, 1, IsNotFound},
		{"keyed POST retried on 500", keyedPost, []int{500, 201}, 0, 2, nil},
		{"keyed POST retried on network error", keyedPost, []int{-1, 201}, 0, 2, nil},
		{"keyed action retried on 502", keyedAction, []int{502, 200}, 0, 2, nil},
		{"unkeyed POST not retried on 500", unkeyedPost, []int{500, 201}, 0, 1, IsServerError},
		{"unkeyed POST not retried on 429", unkeyedPost, []int{429, 201}, 0, 1, IsRateLimited},
		{"unkeyed POST not retried on network error", unkeyedPost, []int{-1, 201}, 0, 1, IsUnavailable},
		{"PATCH not retried", patch, []int{503, 200}, 0, 1, IsUnavailable},
		{"DELETE not retried", del, []int{503, 200}, 0, 1, IsServerError},
		{"retries disabled", get, []int{503, 200}, -1, 1, IsServerError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rc recorder
			c := newTestClient(t, rc.handler(replySequence(tc.statuses...)), func(cfg *Config) {
				if tc.maxElapsed != 0 {
					cfg.MaxRetryElapsed = tc.maxElapsed
				}
			})
			err := tc.call(c)
			if tc.wantErr == nil && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.wantErr != nil && !tc.wantErr(err) {
				t.Fatalf("error %v is not of the expected class", err)
			}
			reqs, retries := c.Stats()
			if reqs != tc.wantRequests || retries != tc.wantRequests-1 {
				t.Errorf("Stats() = %d requests, %d retries; want %d, %d", reqs, retries, tc.wantRequests, tc.wantRequests-1)
			}
			if served := len(rc.all()); tc.statuses[0] != -1 && int64(served) != tc.wantRequests {
				t.Errorf("server saw %d requests", served)
			}
			for _, r := range rc.all() {
				if r.Method == "POST" && r.Header.Get("Idempotency-Key") == "" && tc.wantRequests > 1 {
					t.Error("a retried POST carried no Idempotency-Key")
				}
			}
		})
	}
}

func TestRetryGivesUpWithLastError(t *testing.T) {
	var rc recorder
	c := newTestClient(t, rc.handler(replySequence(503)), func(cfg *Config) {
		cfg.BackoffBase = 50 * time.Millisecond
		cfg.MaxRetryElapsed = 575 * time.Millisecond
	})
	_, err := c.GetInquiry(context.Background(), "inq_1")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 {
		t.Fatalf("err = %v, want the last 503", err)
	}
	// 50, 100, 200 ms fit in 575 ms, 400 more does not: 4 attempts. Jitter (≤ 20%) cannot change
	// that, and the three requests themselves may take up to 155 ms on a loaded machine.
	if reqs, retries := c.Stats(); reqs != 4 || retries != 3 {
		t.Errorf("Stats() = %d, %d; want 4 requests, 3 retries", reqs, retries)
	}
}

func TestRetryHonoursRateLimitReset(t *testing.T) {
	reply := func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("RateLimit-Reset", "1")
			writeJSON(w, 429, `{"errors":[{"title":"Rate limit exceeded"}]}`)
			return
		}
		writeJSON(w, 200, inquiryJSON("inq_1", "pending"))
	}
	t.Run("waits at least the reset", func(t *testing.T) {
		var rc recorder
		c := newTestClient(t, rc.handler(reply))
		start := time.Now()
		if _, err := c.GetInquiry(context.Background(), "inq_1"); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el < time.Second {
			t.Errorf("retried after %v, before RateLimit-Reset of 1 s", el)
		}
	})
	t.Run("gives up when the reset exceeds the budget", func(t *testing.T) {
		var rc recorder
		c := newTestClient(t, rc.handler(reply), func(cfg *Config) { cfg.MaxRetryElapsed = 100 * time.Millisecond })
		_, err := c.GetInquiry(context.Background(), "inq_1")
		if !IsRateLimited(err) || RetryAfter(err) != time.Second {
			t.Fatalf("err = %v, RetryAfter = %v", err, RetryAfter(err))
		}
		if reqs, _ := c.Stats(); reqs != 1 {
			t.Errorf("%d requests, want 1", reqs)
		}
		if got := Explain(err); got != "Persona is busy (rate limited); try again in 1 s." {
			t.Errorf("Explain = %q", got)
		}
	})
}

func TestContextCancelStopsRetries(t *testing.T) {
	var rc recorder
	c := newTestClient(t, rc.handler(replySequence(503)), func(cfg *Config) { cfg.BackoffBase = 10 * time.Second; cfg.MaxRetryElapsed = time.Minute })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetInquiry(ctx, "inq_1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("backoff ignored the context")
	}
	if reqs, _ := c.Stats(); reqs != 1 {
		t.Errorf("%d requests, want 1", reqs)
	}
}

func TestPerRequestTimeout(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}, func(cfg *Config) { cfg.Timeout = 30 * time.Millisecond; cfg.MaxRetryElapsed = -1 })
	_, err := c.GetInquiry(context.Background(), "inq_1")
	if !IsTimeout(err) || !IsUnavailable(err) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if !strings.Contains(Explain(err), "did not answer in time") {
		t.Errorf("Explain = %q", Explain(err))
	}
}
