// Package persona is a client for Persona's identity verification API
// (https://docs.withpersona.com), on Persona-Version 2023-01-05, 2025-10-27 or 2025-12-08
// with kebab-case keys: inquiries, verifications, inquiry templates, webhooks, typed errors,
// client-side rate limiting with retries, and webhook signature verification
// and event parsing. It imports nothing from the rest of Linkdesk.
package persona

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults applied by New for zero Config fields.
const (
	DefaultBaseURL         = "https://api.withpersona.com/api/v1"
	DefaultVersion         = "2025-12-08"
	DefaultUserAgent       = "linkdesk-persona/1"
	DefaultTimeout         = 15 * time.Second
	DefaultRateLimit       = 300 // requests per minute, Persona's per-environment default
	DefaultMaxRetryElapsed = 60 * time.Second
	DefaultBackoffBase     = 5 * time.Second // 5, 10, 20, 40 s as Persona advises
)

// SupportedVersions are the Persona-Version values whose shapes this client reads and writes:
// 2023-01-05 (kebab keys everywhere, PII also as top-level attributes, a default included),
// 2025-10-27 (fields keep their configured keys, PII only in fields, nothing included unless
// asked for) and 2025-12-08 (as 2025-10-27 for everything the console reads).
var SupportedVersions = []string{"2023-01-05", "2025-10-27", "2025-12-08"}

// fieldsVerbatim reports whether version v keeps the keys inside fields in their configured
// form (2025-10-27 on): the client then sends field keys as templates configure them.
func fieldsVerbatim(v string) bool { return v >= "2025-10-27" }

// CheckVersion returns an error in words unless v ("" for the default) is a supported version.
func CheckVersion(v string) error {
	if v == "" || slices.Contains(SupportedVersions, v) {
		return nil
	}
	return fmt.Errorf("Persona-Version %q is not one Linkdesk understands: it reads only %s; leave the version unset or use one of those",
		v, strings.Join(SupportedVersions, ", "))
}

// maxResponseBytes bounds what we read from Persona; real answers are a few KB.
const maxResponseBytes = 16 << 20

// Config configures a Client. Zero fields take the defaults above.
type Config struct {
	BaseURL    string // e.g. the built-in sandbox's URL; default DefaultBaseURL
	APIKey     string // persona_production_... or persona_sandbox_...
	Version    string // Persona-Version header
	UserAgent  string
	HTTPClient *http.Client  // default: a plain client; timeouts come from Timeout
	Timeout    time.Duration // per attempt
	RateLimit  int           // requests per minute, client side
	// MaxRetryElapsed bounds the time spent retrying one call; negative
	// disables retries.
	MaxRetryElapsed time.Duration
	BackoffBase     time.Duration // first retry delay, doubled each time
	Observer        Observer      // told of every attempt and rate-limit wait; nil: nobody
}

// Observer watches the client for metrics. op is the method and path with ids replaced by
// {id} (e.g. "POST /inquiries/{id}/resume"); status is 0 when no answer came back.
type Observer interface {
	PersonaCall(op string, status int, d time.Duration)
	PersonaWait(d time.Duration)
}

// Client calls Persona's API. It is safe for concurrent use.
type Client struct {
	cfg      Config
	hc       *http.Client
	lim      *limiter
	requests atomic.Int64
	retries  atomic.Int64
}

// New returns a Client for cfg with defaults filled in.
func New(cfg Config) *Client {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.MaxRetryElapsed == 0 {
		cfg.MaxRetryElapsed = DefaultMaxRetryElapsed
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = DefaultBackoffBase
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{cfg: cfg, hc: hc, lim: newLimiter(cfg.RateLimit)}
}

// Stats returns how many HTTP requests this client has sent (attempts,
// retries included) and how many of them were retries.
func (c *Client) Stats() (requests, retries int64) {
	return c.requests.Load(), c.retries.Load()
}

// Version is the Persona-Version the client sends.
func (c *Client) Version() string { return c.cfg.Version }

// IsSandboxKey reports whether the configured key is a Sandbox key. Persona
// does not document the prefix, but every Sandbox key seen uses it.
func (c *Client) IsSandboxKey() bool {
	return strings.HasPrefix(c.cfg.APIKey, "persona_sandbox_")
}

type idempotencyKeyCtx struct{}

// WithIdempotencyKey returns a context that makes the POST issued with it
// carry Idempotency-Key: key. It lets action calls (approve, resume, ...)
// use a key stored beforehand, and makes them safe to retry.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKeyCtx{}, key)
}

func idempotencyKeyFrom(ctx context.Context) string {
	k, _ := ctx.Value(idempotencyKeyCtx{}).(string)
	return k
}

// call describes one API call.
type call struct {
	method string
	path   string     // below BaseURL, e.g. /inquiries/inq_123
	query  url.Values // may be nil
	body   any        // JSON-encoded when non-nil
	idem   string     // Idempotency-Key (POST only)
}

// do performs c with pacing and retries, and decodes a 2xx JSON:API answer.
func (c *Client) do(ctx context.Context, cl call) (*document, error) {
	op := cl.method + " " + cl.path
	var body []byte
	if cl.body != nil {
		var err error
		if body, err = json.Marshal(cl.body); err != nil {
			return nil, fmt.Errorf("persona: %s: encode request: %w", op, err)
		}
	}
	if cl.idem == "" && cl.method == http.MethodPost {
		cl.idem = idempotencyKeyFrom(ctx)
	}
	// Only requests Persona will not apply twice may be repeated: reads, and
	// POSTs whose idempotency key makes a replay return the first result.
	retryable := cl.method == http.MethodGet || (cl.method == http.MethodPost && cl.idem != "")

	start := time.Now()
	for attempt := 0; ; attempt++ {
		waitStart := time.Now()
		err := c.lim.wait(ctx)
		if c.cfg.Observer != nil {
			c.cfg.Observer.PersonaWait(time.Since(waitStart))
		}
		if err != nil {
			var throttled *APIError
			if errors.As(err, &throttled) {
				return nil, throttled
			}
			return nil, fmt.Errorf("persona: %s: waiting for rate limiter: %w", op, err)
		}
		c.requests.Add(1)
		if attempt > 0 {
			c.retries.Add(1)
		}
		sent := time.Now()
		status, h, respBody, err := c.send(ctx, cl, body)
		if c.cfg.Observer != nil {
			c.cfg.Observer.PersonaCall(opName(cl.method, cl.path), status, time.Since(sent))
		}
		if err == nil && status >= 200 && status < 300 {
			var d document
			if err := decodeJSON(respBody, &d); err != nil {
				return nil, fmt.Errorf("persona: %s: decode response (HTTP %d): %w", op, status, err)
			}
			d.Meta = kebabKeys(d.Meta)
			return &d, nil
		}
		if ctx.Err() != nil {
			// The caller gave up (or its deadline passed): not Persona's fault.
			return nil, fmt.Errorf("persona: %s: %w", op, ctx.Err())
		}
		var failure error
		if err != nil {
			failure = &unavailableError{op: op, timeout: isTimeout(err), err: err}
		} else {
			failure = parseAPIError(status, h, respBody)
		}
		if !retryable || c.cfg.MaxRetryElapsed < 0 || !(err != nil || status == http.StatusTooManyRequests || status >= 500) {
			return nil, failure
		}
		delay := c.backoff(attempt)
		if wait := RetryAfter(failure); wait > delay {
			delay = wait
		}
		if time.Since(start)+delay > c.cfg.MaxRetryElapsed {
			return nil, failure
		}
		if err := sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("persona: %s: %w (while retrying after: %w)", op, err, failure)
		}
	}
}

// backoff is BackoffBase·2^attempt plus up to 20% jitter, so clients that
// failed together do not retry in lockstep.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.BackoffBase << min(attempt, 20)
	if d <= 0 { // overflow
		d = time.Hour
	}
	return d + rand.N(d/5+1)
}

// send makes one HTTP attempt. A non-nil error means no usable answer came back.
func (c *Client) send(ctx context.Context, cl call, body []byte) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	u := c.cfg.BaseURL + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	req.Header.Set("Persona-Version", c.cfg.Version)
	req.Header.Set("Key-Inflection", "kebab")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if cl.idem != "" && cl.method == http.MethodPost {
		req.Header.Set("Idempotency-Key", cl.idem)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	c.lim.observe(resp.Header, resp.StatusCode, time.Now())
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading response: %w", err)
	}
	return resp.StatusCode, resp.Header, respBody, nil
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &te) && te.Timeout())
}

// metaString reads a string from a response's meta.
func (d *document) metaString(key string) string {
	var s string
	if raw, ok := d.Meta[key]; ok && decodeJSON(raw, &s) == nil {
		return s
	}
	return ""
}

// nextCursor derives the page[after] cursor from links.next; "" at the end.
func (d *document) nextCursor() string {
	if d.Links.Next == nil || *d.Links.Next == "" {
		return ""
	}
	u, err := url.Parse(*d.Links.Next)
	if err != nil {
		return ""
	}
	return u.Query().Get("page[after]")
}

// escapeID puts an id into a path segment; an empty id is refused rather
// than turned into a call on the collection.
func escapeID(what, id string) (string, error) {
	if strings.TrimSpace(id) == "" {
		return "", fmt.Errorf("persona: %s: empty id", what)
	}
	return url.PathEscape(id), nil
}

// WaitHeadroom blocks until the client's rate budget has more than reserve requests free, or
// ctx ends. Background work (bulk send) calls it before each request, so it spends only what
// staff working interactively leave over and they always find reserve requests ready.
func (c *Client) WaitHeadroom(ctx context.Context, reserve int) error {
	for {
		d := c.lim.headroomWait(time.Now(), reserve)
		if d <= 0 {
			return ctx.Err()
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// Burst is how many requests the client lets out at once before pacing them.
func (c *Client) Burst() int { return c.lim.burst() }

// Interval is the steady spacing between requests at the configured rate limit.
func (c *Client) Interval() time.Duration { return c.lim.interval }
