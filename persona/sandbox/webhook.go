package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// retrySchedule is Persona's documented backoff between attempts (about n⁶
// seconds): 7 retries after the first attempt, 8 attempts in all.
var retrySchedule = []time.Duration{
	3 * time.Second, 64 * time.Second, 729 * time.Second, 4096 * time.Second,
	15625 * time.Second, 46656 * time.Second, 117649 * time.Second,
}

const (
	webhookTimeout = 5 * time.Second
	// outOfOrderHold is how long OutOfOrderWebhooks holds an event back when
	// no later event comes to overtake it.
	outOfOrderHold = 250 * time.Millisecond
)

type event struct {
	id        string
	name      string
	inquiryID string
	createdAt time.Time
	body      []byte
}

// delivery is one copy of an event on its way to the webhook endpoint.
type delivery struct {
	ev       *event
	attempts int
	first    time.Time
}

// webhookSender delivers events: first attempts in order from one queue
// (unless a knob says otherwise), retries on timers.
type webhookSender struct {
	s      *Sandbox
	client *http.Client

	mu     sync.Mutex
	queue  []*delivery
	held   *delivery
	closed bool
	wake   chan struct{}
	done   chan struct{}
}

func newWebhookSender(s *Sandbox, transport http.RoundTripper) *webhookSender {
	w := &webhookSender{
		s: s,
		client: &http.Client{
			Transport: transport,
			Timeout:   webhookTimeout,
			// A redirect is not a success: report the 3xx as it is.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
	go w.run()
	return w
}

// enqueue takes an event (called with s.mu held; never blocks). As at
// Persona, an event is sent only to an endpoint that exists when it happens:
// one set later does not receive it.
func (w *webhookSender) enqueue(ev *event) {
	if target, _ := w.s.webhookTarget(); target == "" {
		w.s.counters.skipped.Add(1)
		return
	}
	k := w.s.Knobs()
	copies := 1
	if k.DuplicateWebhooks {
		copies = 2
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	for range copies {
		if k.DropWebhooks > 0 && rand.Float64() < k.DropWebhooks {
			w.s.counters.dropped.Add(1)
			continue
		}
		d := &delivery{ev: ev}
		if !k.OutOfOrderWebhooks {
			w.flushHeldLocked()
			w.queue = append(w.queue, d)
			continue
		}
		if w.held == nil {
			// Hold it until the next event overtakes it, or for a moment.
			w.held = d
			w.s.timers.after(outOfOrderHold, func() {
				w.mu.Lock()
				if w.held == d {
					w.flushHeldLocked()
				}
				w.mu.Unlock()
			})
			continue
		}
		w.queue = append(w.queue, d)
		w.flushHeldLocked()
	}
	w.signal()
}

func (w *webhookSender) flushHeldLocked() {
	if w.held != nil {
		w.queue = append(w.queue, w.held)
		w.held = nil
		w.signal()
	}
}

func (w *webhookSender) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *webhookSender) run() {
	defer close(w.done)
	for {
		w.mu.Lock()
		if w.closed || w.s.ctx.Err() != nil {
			w.mu.Unlock()
			return
		}
		var d *delivery
		if len(w.queue) > 0 {
			d = w.queue[0]
			w.queue[0] = nil
			w.queue = w.queue[1:]
		}
		w.mu.Unlock()
		if d != nil {
			w.attempt(d)
			continue
		}
		select {
		case <-w.wake:
		case <-w.s.ctx.Done():
		}
	}
}

func (w *webhookSender) close() {
	w.mu.Lock()
	w.closed = true
	w.queue, w.held = nil, nil
	w.mu.Unlock()
	w.signal()
	<-w.done
}

// attempt makes one delivery attempt and schedules the retry on failure.
func (w *webhookSender) attempt(d *delivery) {
	s := w.s
	if s.ctx.Err() != nil {
		return
	}
	target, secrets := s.webhookTarget()
	if target == "" {
		s.counters.skipped.Add(1)
		return
	}
	now := time.Now()
	d.attempts++
	if d.first.IsZero() {
		d.first = now
	}
	s.counters.attempts.Add(1)
	ok := w.post(target, secrets, d, now)
	if ok {
		s.counters.delivered.Add(1)
		return
	}
	s.counters.failures.Add(1)
	if d.attempts > len(retrySchedule) {
		s.counters.abandoned.Add(1)
		return
	}
	wait := time.Duration(float64(retrySchedule[d.attempts-1]) * s.retryScale)
	s.timers.after(wait, func() { w.attempt(d) })
}

// sign returns the Persona-Signature header value for body at time t:
// "t=<unix>,v1=<hex HMAC-SHA256 of "<unix>.<body>" keyed with secret>".
func sign(secret string, t time.Time, body []byte) string {
	unix := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(unix))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + unix + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// signAll signs body with each secret, one set per secret separated by a space, as Persona
// does while a webhook's secret rotates.
func signAll(secrets []string, t time.Time, body []byte) string {
	sets := make([]string, len(secrets))
	for i, sec := range secrets {
		sets[i] = sign(sec, t, body)
	}
	return strings.Join(sets, " ")
}

func (w *webhookSender) post(target string, secrets []string, d *delivery, now time.Time) bool {
	ctx, cancel := context.WithTimeout(w.s.ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(d.ev.body))
	if err != nil {
		return false
	}
	h := req.Header
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("User-Agent", "Persona-Sandbox (Linkdesk)")
	h.Set("Persona-Signature", signAll(secrets, now, d.ev.body))
	h.Set("Persona-Webhook-Attempts-Made", strconv.Itoa(d.attempts))
	h.Set("Persona-Webhook-Attempts-Left", strconv.Itoa(len(retrySchedule)+1-d.attempts))
	h.Set("Persona-Webhook-First-Attempted-At", strconv.FormatInt(d.first.Unix(), 10))
	resp, err := w.client.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated, http.StatusAccepted, http.StatusNoContent:
		return true
	}
	return false
}
