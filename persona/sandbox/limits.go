package sandbox

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"sync"
	"time"
)

// ---- rate limit: Persona's fixed one-minute window ----

type rateLimiter struct {
	mu    sync.Mutex
	start time.Time
	count int
}

type rateState struct {
	allowed   bool
	limit     int
	remaining int
	reset     int // seconds until the window ends
}

// take counts one request (if count) against a window that starts at the
// first request and lasts one minute. enforce 0 reports Persona's default of
// 300 but never refuses.
func (rl *rateLimiter) take(now time.Time, enforce int, count bool) rateState {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	limit := enforce
	if limit <= 0 {
		limit = personaDefaultRateLimit
	}
	if rl.start.IsZero() || !now.Before(rl.start.Add(time.Minute)) {
		if !count {
			return rateState{allowed: true, limit: limit, remaining: limit, reset: 60}
		}
		rl.start, rl.count = now, 0
	}
	if count {
		rl.count++
	}
	st := rateState{
		allowed:   enforce <= 0 || rl.count <= enforce,
		limit:     limit,
		remaining: max(0, limit-rl.count),
		reset:     int(math.Ceil(rl.start.Add(time.Minute).Sub(now).Seconds())),
	}
	st.reset = max(st.reset, 1)
	return st
}

func (st rateState) set(h http.Header) {
	h.Set("RateLimit-Limit", itoa(st.limit))
	h.Set("RateLimit-Remaining", itoa(st.remaining))
	h.Set("RateLimit-Reset", itoa(st.reset))
}

// ---- idempotency: Persona saves the first answer for a key for 24 hours ----

const idempotencyTTL = 24 * time.Hour

type idemEntry struct {
	fingerprint string
	done        bool
	status      int
	body        []byte
	requestID   string
	at          time.Time
}

type idempotencyStore struct {
	mu        sync.Mutex
	m         map[string]*idemEntry
	lastPrune time.Time
}

func newIdempotencyStore() *idempotencyStore {
	return &idempotencyStore{m: map[string]*idemEntry{}}
}

type idemOutcome int

const (
	idemNew idemOutcome = iota
	idemReplay
	idemMismatch
	idemInFlight
)

// begin looks key up. idemNew reserves it for this request: call finish.
func (st *idempotencyStore) begin(key, fingerprint string, now time.Time) (*idemEntry, idemOutcome) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if now.Sub(st.lastPrune) > time.Minute {
		for k, e := range st.m {
			if e.done && now.Sub(e.at) >= idempotencyTTL {
				delete(st.m, k)
			}
		}
		st.lastPrune = now
	}
	e := st.m[key]
	if e != nil && e.done && now.Sub(e.at) >= idempotencyTTL {
		delete(st.m, key)
		e = nil
	}
	switch {
	case e == nil:
		st.m[key] = &idemEntry{fingerprint: fingerprint, at: now}
		return nil, idemNew
	case e.fingerprint != fingerprint:
		return nil, idemMismatch
	case !e.done:
		return nil, idemInFlight
	default:
		c := *e
		return &c, idemReplay
	}
}

func (st *idempotencyStore) finish(key string, status int, body []byte, requestID string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if e := st.m[key]; e != nil {
		e.done, e.status, e.body, e.requestID = true, status, body, requestID
	}
}

// abandon forgets a reserved key whose request never produced an answer.
func (st *idempotencyStore) abandon(key string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if e := st.m[key]; e != nil && !e.done {
		delete(st.m, key)
	}
}

// fingerprint identifies a request's parameters: method, path, query and the
// JSON body in canonical form (key order and spacing do not matter).
func fingerprint(r *http.Request, body []byte) string {
	canon := bytes.TrimSpace(body)
	var v any
	d := json.NewDecoder(bytes.NewReader(canon))
	d.UseNumber()
	if len(canon) > 0 && d.Decode(&v) == nil {
		if b, err := json.Marshal(v); err == nil {
			canon = b
		}
	}
	return r.Method + " " + r.URL.Path + "?" + r.URL.Query().Encode() + "\n" + string(canon)
}
