package sandbox

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Sandbox. The zero value works: every field has a default.
type Options struct {
	// APIKey is the bearer key the API accepts (default DefaultAPIKey). A key
	// that starts with "persona_production_" makes the sandbox behave like a
	// production environment where Persona differs (inquiry templates are then
	// listed by the API).
	APIKey string
	// WebhookURL receives the signed webhook events; empty sends none.
	WebhookURL string
	// WebhookSecret signs the webhook events (Persona-Signature).
	WebhookSecret string
	// WebhookSecrets also sign every delivery, as Persona does while a secret rotates: the
	// header then carries one t=…,v1=… set per secret.
	WebhookSecrets []string
	// WebhookVersion is the API version the webhook's payloads are written in (default
	// DefaultVersion), WebhookKeyInflection their keys' inflection (default kebab), as
	// Persona's dashboard sets per webhook; GET /webhooks reports both.
	WebhookVersion, WebhookKeyInflection string
	// PublicURL is the sandbox's own base URL (e.g. http://127.0.0.1:8091),
	// used to build hosted-flow and one-time links. Empty: derived from each
	// request's Host.
	PublicURL string
	// InquiryExpiry is the template's expiry interval, from creation, from
	// start and from resume (default 24h, Persona's default).
	InquiryExpiry time.Duration
	// RetryScale multiplies Persona's webhook retry schedule (3, 64, 729, 4096,
	// 15625, 46656, 117649 s). Default 1; tests use e.g. 0.001.
	RetryScale float64
	// WebhookTransport carries the webhook deliveries (default
	// http.DefaultTransport). Tests pass one that calls a handler in memory, so
	// deliveries also work inside a testing/synctest bubble.
	WebhookTransport http.RoundTripper
	// StateFile, read by Open, makes the state durable: everything the sandbox answered is in
	// this file before the answer is sent, and a restart with the same file carries on from
	// it (see persist.go). Empty: the state lives in memory only.
	StateFile string
	// ActiveTagLimit is how many distinct tags the organization may have active (default 1000,
	// Persona's limit since 2025-09-29); a request that would create one more is a 422.
	ActiveTagLimit int
	Knobs
}

// Knobs are the fault-injection settings. They can be changed at any time
// with SetKnobs or through GET/POST /_sandbox/knobs.
type Knobs struct {
	// ErrorRate is the fraction (0..1) of API calls answered 500 or 503 in
	// Persona's error shape, before they reach the API (nothing is changed and
	// nothing is stored under the request's Idempotency-Key).
	ErrorRate float64
	// RateLimitPerMinute enforces a fixed one-minute window (0 = not enforced;
	// the RateLimit-* headers then describe Persona's default of 300).
	RateLimitPerMinute int
	// Latency delays every API response.
	Latency time.Duration
	// DuplicateWebhooks sends every event twice (same evt_ id).
	DuplicateWebhooks bool
	// OutOfOrderWebhooks holds each event back until the next one has been
	// sent (or for a short while), so later events may arrive first.
	OutOfOrderWebhooks bool
	// DropWebhooks is the fraction (0..1) of events never delivered.
	DropWebhooks float64
	// StuckCursor makes GET /inquiries ignore page[after] and page[before] and always offer a
	// links.next, so a client that follows it blindly reads the same page forever.
	StuckCursor bool
	// Throttle answers the next Throttle API calls 429 (a burst), then counts down to 0.
	Throttle int
	// HoldAnswers carries out (and, with a state file, stores) the next HoldAnswers API calls
	// that change something and succeed, but never sends their answers: the sandbox waits
	// until the client hangs up, like a Persona that crashed between its work and its answer.
	HoldAnswers int
}

// Template names a seeded inquiry template.
type Template struct {
	ID   string
	Name string
}

// Stats counts what the sandbox has seen and done since New.
type Stats struct {
	APICalls          int64            // requests under /api/v1, whatever their answer
	Calls             map[string]int64 // API requests by route, e.g. "GET /inquiries", "POST /inquiries/{id}/resume"
	Unauthorized      int64            // 401 answers
	RateLimited       int64            // 429 answers
	InjectedErrors    int64            // 5xx answers from Knobs.ErrorRate
	IdempotentReplays int64            // answers replayed for a repeated Idempotency-Key
	AnswersHeld       int64            // answers withheld by Knobs.HoldAnswers
	IdempotencyKeys   map[string]int64 // requests received per Idempotency-Key, whatever their answer
	InquiriesCreated  int64
	Events            int64 // webhook events emitted
	WebhookAttempts   int64 // delivery attempts (first attempts, retries and duplicates)
	WebhooksDelivered int64 // attempts answered 200/201/202/204 within 5 s
	WebhookFailures   int64 // attempts answered otherwise or not at all
	WebhooksDropped   int64 // events (copies) dropped by Knobs.DropWebhooks
	WebhooksAbandoned int64 // deliveries that used up all 8 attempts
	WebhooksSkipped   int64 // deliveries with no webhook URL configured
}

// personaDefaultRateLimit is Persona's default per-environment rate limit.
const personaDefaultRateLimit = 300

// Sandbox is an in-process stand-in for Persona: the API under /api/v1, the
// hosted flow under /verify, webhooks, and an admin area under /_sandbox.
type Sandbox struct {
	apiKey     string
	production bool
	publicURL  string
	expiry     time.Duration
	retryScale float64
	jwtKey     []byte
	tagLimit   int

	knobsMu sync.RWMutex
	knobs   Knobs

	hookMu        sync.RWMutex
	webhookURL    string
	webhookSecret string
	webhookMore   []string // further secrets during a rotation
	webhookShape  shape

	clock  clock
	timers *timerSet
	hooks  *webhookSender
	idem   *idempotencyStore
	store  *stateStore // nil: nothing is written to disk
	rl     rateLimiter
	api    *http.ServeMux // /api/v1, see newAPIMux
	ctx    context.Context
	cancel context.CancelFunc

	counters struct {
		apiCalls, unauthorized, rateLimited, injected, replays, created atomic.Int64
		events, attempts, delivered, failures, dropped, abandoned       atomic.Int64
		skipped, held                                                   atomic.Int64
	}
	callsMu sync.Mutex
	calls   map[string]int64
	keys    map[string]int64 // requests per Idempotency-Key

	// mu guards everything below.
	mu            sync.Mutex
	seq           int64
	inquiries     map[string]*inquiry
	order         []*inquiry // creation order
	verifs        map[string]*verification
	sessions      map[string]*session
	accounts      map[string]*account
	accountsByRef map[string]*account
	otls          map[string]*oneTimeLink // by code and by short code
	templates     []*tmplDef
	tmplByID      map[string]*tmplDef
	tmplByVersion map[string]*tmplDef
}

// New returns a running sandbox with an empty state. Call Close to stop its timers and webhook
// deliveries. A sandbox with a StateFile is made by Open.
func New(opts Options) *Sandbox {
	if opts.StateFile != "" {
		panic("sandbox: New with a StateFile; use Open")
	}
	s := &Sandbox{
		apiKey:        opts.APIKey,
		publicURL:     strings.TrimRight(opts.PublicURL, "/"),
		expiry:        opts.InquiryExpiry,
		retryScale:    opts.RetryScale,
		tagLimit:      opts.ActiveTagLimit,
		webhookURL:    opts.WebhookURL,
		webhookSecret: opts.WebhookSecret,
		webhookMore:   opts.WebhookSecrets,
		webhookShape:  shape{opts.WebhookVersion, opts.WebhookKeyInflection},
		inquiries:     map[string]*inquiry{},
		verifs:        map[string]*verification{},
		sessions:      map[string]*session{},
		accounts:      map[string]*account{},
		accountsByRef: map[string]*account{},
		otls:          map[string]*oneTimeLink{},
		tmplByID:      map[string]*tmplDef{},
		tmplByVersion: map[string]*tmplDef{},
		calls:         map[string]int64{},
		keys:          map[string]int64{},
		idem:          newIdempotencyStore(),
	}
	if s.apiKey == "" {
		s.apiKey = DefaultAPIKey
	}
	s.production = strings.HasPrefix(s.apiKey, "persona_production_")
	if s.expiry <= 0 {
		s.expiry = 24 * time.Hour
	}
	if s.retryScale <= 0 {
		s.retryScale = 1
	}
	if s.tagLimit <= 0 {
		s.tagLimit = 1000
	}
	s.jwtKey = make([]byte, 32)
	if _, err := rand.Read(s.jwtKey); err != nil {
		panic("sandbox: crypto/rand: " + err.Error())
	}
	if s.webhookShape.version == "" {
		s.webhookShape.version = DefaultVersion
	}
	if s.webhookShape.inflection == "" {
		s.webhookShape.inflection = "kebab"
	}
	if _, bad := shapeOf(s.webhookShape.version, s.webhookShape.inflection); bad != nil {
		panic("sandbox: webhook version " + s.webhookShape.version + " or key inflection " + s.webhookShape.inflection + " is not one the sandbox speaks")
	}
	s.knobs = sanitizeKnobs(opts.Knobs)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.timers = newTimerSet()
	s.hooks = newWebhookSender(s, opts.WebhookTransport)
	s.api = s.newAPIMux()

	seeded := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, t := range []*tmplDef{
		{id: TemplateKYC, versionID: TemplateKYCVersion, name: "KYC", createdAt: seeded},
		{id: TemplateKYCManualReview, versionID: TemplateKYCManualReviewVersion, name: "KYC with manual review", review: true, createdAt: seeded},
	} {
		s.templates = append(s.templates, t)
		s.tmplByID[t.id] = t
		s.tmplByVersion[t.versionID] = t
	}
	return s
}

func sanitizeKnobs(k Knobs) Knobs {
	clamp := func(f float64) float64 {
		if f < 0 || f != f {
			return 0
		}
		if f > 1 {
			return 1
		}
		return f
	}
	k.ErrorRate = clamp(k.ErrorRate)
	k.DropWebhooks = clamp(k.DropWebhooks)
	if k.RateLimitPerMinute < 0 {
		k.RateLimitPerMinute = 0
	}
	if k.Latency < 0 {
		k.Latency = 0
	}
	k.Throttle = max(k.Throttle, 0)
	k.HoldAnswers = max(k.HoldAnswers, 0)
	return k
}

// SetKnobs replaces the fault-injection settings.
func (s *Sandbox) SetKnobs(k Knobs) {
	s.knobsMu.Lock()
	s.knobs = sanitizeKnobs(k)
	s.knobsMu.Unlock()
}

// takeThrottle uses up one call of a Throttle burst.
func (s *Sandbox) takeThrottle() bool {
	s.knobsMu.Lock()
	defer s.knobsMu.Unlock()
	if s.knobs.Throttle <= 0 {
		return false
	}
	s.knobs.Throttle--
	return true
}

// Knobs returns the current fault-injection settings.
func (s *Sandbox) Knobs() Knobs {
	s.knobsMu.RLock()
	defer s.knobsMu.RUnlock()
	return s.knobs
}

// SetWebhook sets (or, with an empty url, removes) the webhook endpoint and
// its secret. Deliveries already queued use the new values from their next
// attempt on; events from while no endpoint was set are never sent.
func (s *Sandbox) SetWebhook(url, secret string) {
	s.hookMu.Lock()
	s.webhookURL, s.webhookSecret = url, secret
	s.hookMu.Unlock()
}

// webhookTarget is where deliveries go and the secrets that sign them.
func (s *Sandbox) webhookTarget() (string, []string) {
	s.hookMu.RLock()
	defer s.hookMu.RUnlock()
	secrets := []string{s.webhookSecret}
	for _, m := range s.webhookMore {
		if m != "" && m != s.webhookSecret {
			secrets = append(secrets, m)
		}
	}
	return s.webhookURL, secrets
}

func (s *Sandbox) webhookShapeNow() shape {
	s.hookMu.RLock()
	defer s.hookMu.RUnlock()
	return s.webhookShape
}

// Templates returns the seeded inquiry templates.
func (s *Sandbox) Templates() []Template {
	out := make([]Template, 0, len(s.templates))
	for _, t := range s.templates {
		out = append(out, Template{ID: t.id, Name: t.name})
	}
	return out
}

// Stats returns a snapshot of the sandbox's counters.
func (s *Sandbox) Stats() Stats {
	c := &s.counters
	st := Stats{
		APICalls:          c.apiCalls.Load(),
		Unauthorized:      c.unauthorized.Load(),
		RateLimited:       c.rateLimited.Load(),
		InjectedErrors:    c.injected.Load(),
		IdempotentReplays: c.replays.Load(),
		AnswersHeld:       c.held.Load(),
		InquiriesCreated:  c.created.Load(),
		Events:            c.events.Load(),
		WebhookAttempts:   c.attempts.Load(),
		WebhooksDelivered: c.delivered.Load(),
		WebhookFailures:   c.failures.Load(),
		WebhooksDropped:   c.dropped.Load(),
		WebhooksAbandoned: c.abandoned.Load(),
		WebhooksSkipped:   c.skipped.Load(),
		Calls:             map[string]int64{},
	}
	s.callsMu.Lock()
	for k, v := range s.calls {
		st.Calls[k] = v
	}
	st.IdempotencyKeys = make(map[string]int64, len(s.keys))
	for k, v := range s.keys {
		st.IdempotencyKeys[k] = v
	}
	s.callsMu.Unlock()
	return st
}

// Close stops expiry timers, webhook deliveries and retries, and waits for
// them to finish. The HTTP handler keeps answering, but sends no webhooks.
func (s *Sandbox) Close() {
	s.cancel()
	s.hooks.close()
	s.timers.close()
}

// Inquiry reports an inquiry's current status.
func (s *Sandbox) Inquiry(id string) (status string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.inquiries[id]
	if q == nil {
		return "", false
	}
	s.checkExpiry(q)
	return q.status, true
}

// Complete drives a created or pending inquiry through the rest of the hosted
// flow, as a person clicking "Continue" on every step would, with "Pass
// verifications" set to pass. It emits the same events as the hosted pages.
func (s *Sandbox) Complete(inquiryID string, pass bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.inquiries[inquiryID]
	if q == nil {
		return fmt.Errorf("sandbox: inquiry %s not found", inquiryID)
	}
	s.checkExpiry(q)
	if !q.redactedAt.IsZero() {
		return fmt.Errorf("sandbox: inquiry %s is redacted", inquiryID)
	}
	if !q.open() {
		return fmt.Errorf("sandbox: inquiry %s is %s, not created or pending", inquiryID, q.status)
	}
	for q.open() {
		s.submitStep(q, pass, stepInput{})
	}
	return nil
}

// ServeHTTP serves the API (/api/v1/...), the hosted flow (/verify) and the
// admin area (/_sandbox/...). With a state file, what a request changed is on disk before its
// answer is sent.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.serveDurable(w, r, s.route)
}

func (s *Sandbox) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/api/v1" || strings.HasPrefix(p, "/api/v1/"):
		s.serveAPI(w, r)
	case p == "/verify" || strings.HasPrefix(p, "/verify/"):
		s.serveHosted(w, r)
	case strings.HasPrefix(p, "/files/"):
		s.serveFile(w, r)
	case p == "/" || p == "/_sandbox" || strings.HasPrefix(p, "/_sandbox/"):
		s.serveAdmin(w, r)
	default:
		http.NotFound(w, r)
	}
}

// Run listens on addr, logs the seeded templates with their names and ids,
// and serves a new sandbox until ctx ends.
func Run(ctx context.Context, addr string, opts Options, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("sandbox: listen %s: %w", addr, err)
	}
	if opts.PublicURL == "" {
		opts.PublicURL = "http://" + publicHostPort(ln.Addr())
	}
	sb, err := Open(opts)
	if err != nil {
		ln.Close()
		return err
	}
	defer sb.Close()
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}

	keyNote := "(custom key)"
	if sb.apiKey == DefaultAPIKey {
		keyNote = DefaultAPIKey
	}
	log.Info("persona sandbox listening",
		"addr", ln.Addr().String(),
		"api_base_url", sb.publicURL+"/api/v1",
		"hosted_flow_url", sb.publicURL+"/verify",
		"environment_id", EnvironmentID,
		"api_key", keyNote,
		"webhook_url", opts.WebhookURL, "webhook_version", sb.webhookShapeNow().version,
		"state_file", opts.StateFile,
		"knobs", sb.publicURL+"/_sandbox/knobs")
	for _, t := range sb.Templates() {
		log.Info("persona sandbox template", "name", t.Name, "id", t.ID,
			"template_link", sb.publicURL+"/verify?inquiry-template-id="+t.ID+"&environment-id="+EnvironmentID)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("sandbox: serve: %w", err)
	case <-ctx.Done():
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutCtx); err != nil {
			return fmt.Errorf("sandbox: shutdown: %w", err)
		}
		<-errc
		return nil
	}
}

func publicHostPort(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// baseURL is the URL links point at: Options.PublicURL, or the request's host.
func (s *Sandbox) baseURL(r *http.Request) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	if r == nil {
		return "http://127.0.0.1"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// ---- timers ----

// timerHandle is one scheduled callback of a timerSet.
type timerHandle struct{ t *time.Timer }

// timerSet runs callbacks after delays and can stop them all and wait for the
// ones already running (Close).
type timerSet struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
	live   map[*timerHandle]struct{}
}

func newTimerSet() *timerSet { return &timerSet{live: map[*timerHandle]struct{}{}} }

func (ts *timerSet) after(d time.Duration, f func()) *timerHandle {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.closed {
		return nil
	}
	if d < 0 {
		d = 0
	}
	h := &timerHandle{}
	ts.wg.Add(1)
	h.t = time.AfterFunc(d, func() {
		defer ts.wg.Done()
		ts.mu.Lock()
		delete(ts.live, h)
		closed := ts.closed
		ts.mu.Unlock()
		if !closed {
			f()
		}
	})
	ts.live[h] = struct{}{}
	return h
}

func (ts *timerSet) stop(h *timerHandle) {
	if h == nil {
		return
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if _, ok := ts.live[h]; ok && h.t.Stop() {
		delete(ts.live, h)
		ts.wg.Done()
	}
}

func (ts *timerSet) close() {
	ts.mu.Lock()
	ts.closed = true
	for h := range ts.live {
		if h.t.Stop() {
			ts.wg.Done()
		}
		delete(ts.live, h)
	}
	ts.mu.Unlock()
	ts.wg.Wait()
}
