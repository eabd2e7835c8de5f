// Package live is the in-process hub of inquiry changes: the inquiry service and the outbox
// worker publish the id of every inquiry whose cached row changed (webhook, refresh, sync,
// staff action, email), and every open list or detail page subscribed to it hears of it.
// Publishing never blocks. The hub also bounds how many streams are open, and lets the streams
// that show the same thing render a change once between them (Shared).
package live

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Limits bounds the live-update streams: no viewer can exhaust the process's file
// descriptors, and no revoked session keeps receiving. Zero values take the defaults.
type Limits struct {
	PerAccount int           // open streams per staff account, however many times it signed in; 0: 16
	Total      int           // open streams in all; 0: 1000
	Recheck    time.Duration // how often an open stream checks its session again; 0: 5 s
	Lifetime   time.Duration // a stream ends after this long and the browser reconnects; 0: 30 min
}

func (l Limits) withDefaults() Limits {
	if l.PerAccount <= 0 {
		l.PerAccount = 16
	}
	if l.Total <= 0 {
		l.Total = 1000
	}
	if l.Recheck <= 0 {
		l.Recheck = 5 * time.Second
	}
	if l.Lifetime <= 0 {
		l.Lifetime = 30 * time.Minute
	}
	return l
}

// Hub fans changes out to subscribers.
type Hub struct {
	limits  Limits
	version atomic.Uint64 // caches keyed on it (list pages, counts) are stale once it moves

	mu     sync.Mutex
	subs   map[*Subscriber]struct{}
	open   map[string]int // open streams per account
	total  int
	closed chan struct{} // closed when the server shuts down: every stream ends
	once   sync.Once

	shared shared // work streams share, for the current version (shared.go)
}

// New builds a hub.
func New(limits Limits) *Hub {
	return &Hub{limits: limits.withDefaults(),
		subs: map[*Subscriber]struct{}{}, open: map[string]int{}, closed: make(chan struct{})}
}

// Limits returns the stream limits in force (defaults filled in).
func (h *Hub) Limits() Limits { return h.limits }

// Version counts the changes published so far: a cache built at one version is stale once the
// version moves.
func (h *Hub) Version() uint64 { return h.version.Load() }

var (
	ErrAccountStreams = errors.New("too many streams for this account")
	ErrTotalStreams   = errors.New("too many streams in all")
)

// Acquire takes a stream slot for the account; Release gives it back. The cap is the
// account's, not a session's: signing in again does not open more.
func (h *Hub) Acquire(account string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.open[account] >= h.limits.PerAccount:
		return ErrAccountStreams
	case h.total >= h.limits.Total:
		return ErrTotalStreams
	}
	h.open[account]++
	h.total++
	return nil
}

// Streams returns how many stream slots are taken (open live streams).
func (h *Hub) Streams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total
}

// Release gives back a slot taken by Acquire.
func (h *Hub) Release(account string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.total--
	if h.open[account]--; h.open[account] <= 0 {
		delete(h.open, account)
	}
}

// Subscriber collects the changed ids a stream has not handled yet.
type Subscriber struct {
	only    string // a detail stream cares about one inquiry
	mu      sync.Mutex
	pending map[string]struct{}
	wake    chan struct{}
}

// Subscribe starts collecting changes: of every inquiry, or only of the inquiry with id only.
func (h *Hub) Subscribe(only string) *Subscriber {
	sub := &Subscriber{only: only, pending: map[string]struct{}{}, wake: make(chan struct{}, 1)}
	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	return sub
}

// Unsubscribe stops collecting for sub.
func (h *Hub) Unsubscribe(sub *Subscriber) {
	h.mu.Lock()
	delete(h.subs, sub)
	h.mu.Unlock()
}

// Touch records a change that belongs to no one inquiry's row (a row joined its bulk batch):
// cached list pages and counts are refreshed, and no stream is woken.
func (h *Hub) Touch() {
	h.version.Add(1)
}

// Publish tells everyone that inquiry id changed. It never blocks. An email of no inquiry
// ("", the worker's Notify) changes no page.
func (h *Hub) Publish(id string) {
	if id == "" {
		return
	}
	h.Touch()
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		if sub.only != "" && sub.only != id {
			continue
		}
		sub.mu.Lock()
		sub.pending[id] = struct{}{}
		sub.mu.Unlock()
		select {
		case sub.wake <- struct{}{}:
		default:
		}
	}
}

// Close ends every stream (their Closed channel closes); call it when the server shuts down.
func (h *Hub) Close() { h.once.Do(func() { close(h.closed) }) }

// Closed is closed once Close was called.
func (h *Hub) Closed() <-chan struct{} { return h.closed }

// Wake receives when changes are waiting to be taken.
func (sub *Subscriber) Wake() <-chan struct{} { return sub.wake }

// Take returns the ids changed since the last Take, sorted, and forgets them.
func (sub *Subscriber) Take() []string {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	ids := make([]string, 0, len(sub.pending))
	for id := range sub.pending {
		ids = append(ids, id)
	}
	clear(sub.pending)
	slices.Sort(ids)
	return ids
}
