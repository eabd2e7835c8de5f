package persona

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// limiter paces requests on the client side so that we stay under Persona's
// per-minute limit instead of discovering it through 429s. It is a GCRA
// (a token bucket expressed as a schedule) plus two corrections that come from
// Persona's own RateLimit-* headers: when less than 15% of the window remains
// it spreads the remaining requests evenly until the reset, and after a 429 or
// when nothing remains it holds everything until the reset.
type limiter struct {
	mu        sync.Mutex
	interval  time.Duration // emission interval between requests
	tolerance time.Duration // how far ahead of schedule a burst may run
	tat       time.Time     // theoretical arrival time of the next request

	gap       time.Duration // minimum spacing while Persona reports little headroom
	gapUntil  time.Time     // when that spacing stops applying (the reset)
	gapNext   time.Time     // earliest start for the next request under gap
	holdUntil time.Time     // nothing goes out before this (429, or remaining 0)
}

// newLimiter allows perMinute requests in any 60 s window. Persona's window
// is fixed, so the burst is paid for by a slightly slower refill: burst +
// refill over a minute never exceeds perMinute.
func newLimiter(perMinute int) *limiter {
	if perMinute < 1 {
		perMinute = 1
	}
	burst := max(perMinute/20, 1)
	// Round up: a truncated interval would let one extra request into a minute.
	n := time.Duration(perMinute - burst + 1)
	interval := (time.Minute + n - 1) / n
	return &limiter{interval: interval, tolerance: time.Duration(burst-1) * interval}
}

// reserve books the next request slot and returns how long to wait for it.
func (l *limiter) reserve(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tat.Before(now) {
		l.tat = now
	}
	at := l.tat.Add(-l.tolerance)
	if at.Before(now) {
		at = now
	}
	if at.Before(l.holdUntil) {
		at = l.holdUntil
	}
	if l.gap > 0 && at.Before(l.gapUntil) {
		if at.Before(l.gapNext) {
			at = l.gapNext
		}
		l.gapNext = at.Add(l.gap)
	}
	// A request delayed by a hold or gap moves the schedule with it, so the
	// even pacing resumes from there rather than from a stale point.
	if l.tat.Before(at) {
		l.tat = at
	}
	l.tat = l.tat.Add(l.interval)
	return at.Sub(now)
}

// wait blocks until the next request may go out or ctx ends. When the wait would outlast ctx's
// deadline it answers at once as Persona would, so a person waiting on a page is told "busy,
// try again in N s" instead of watching a spinner until the deadline.
func (l *limiter) wait(ctx context.Context) error {
	now := time.Now()
	d := l.reserve(now)
	if dl, ok := ctx.Deadline(); ok && d > 0 && now.Add(d).After(dl) {
		return &APIError{StatusCode: http.StatusTooManyRequests, Title: "Rate limit exceeded",
			Details: "Linkdesk is holding requests back to stay within Persona's rate limit", Reset: d}
	}
	return sleep(ctx, d)
}

// observe adjusts pacing from a response's RateLimit-* headers.
func (l *limiter) observe(h http.Header, status int, now time.Time) {
	limit, okL := headerInt(h, "RateLimit-Limit")
	remaining, okR := headerInt(h, "RateLimit-Remaining")
	reset := retryDelayFromHeaders(h)

	l.mu.Lock()
	defer l.mu.Unlock()
	if status == http.StatusTooManyRequests {
		// Hold every caller, not just the one retrying. Without a reset
		// hint the retry backoff alone paces us.
		if reset > 0 {
			l.hold(now.Add(reset))
		}
		return
	}
	if !okL || !okR || limit <= 0 || reset <= 0 {
		return
	}
	switch {
	case remaining <= 0:
		l.hold(now.Add(reset))
	case float64(remaining) < 0.15*float64(limit):
		// Spread what is left of the window over the time until it resets.
		l.gap = reset / time.Duration(remaining)
		l.gapUntil = now.Add(reset)
	default:
		l.gap = 0
	}
}

func (l *limiter) hold(until time.Time) {
	if until.After(l.holdUntil) {
		l.holdUntil = until
	}
}

// retryDelayFromHeaders reads RateLimit-Reset (seconds until the window
// resets), falling back to Retry-After (seconds) which Persona may or may not send.
func retryDelayFromHeaders(h http.Header) time.Duration {
	for _, name := range []string{"RateLimit-Reset", "Retry-After"} {
		v := strings.TrimSpace(h.Get(name))
		if v == "" {
			continue
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f < 86400 {
			return time.Duration(math.Ceil(f * float64(time.Second)))
		}
	}
	return 0
}

func headerInt(h http.Header, name string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get(name)))
	return n, err == nil
}

// sleep waits for d or until ctx ends, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// headroomWait says how long until more than reserve requests could go out at once (the
// limiter's burst, minus what is booked), without booking anything.
func (l *limiter) headroomWait(now time.Time, reserve int) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	burst := l.burst()
	reserve = min(max(reserve, 0), burst-1)
	// More than reserve slots free means the schedule runs at most this far ahead of now.
	ahead := l.tolerance - time.Duration(reserve)*l.interval
	tat := l.tat
	if tat.Before(now) {
		tat = now
	}
	d := tat.Sub(now) - ahead
	if h := l.holdUntil.Sub(now); h > d {
		d = h
	}
	return max(d, 0)
}

// burst is how many requests may go out back to back before the steady interval applies.
func (l *limiter) burst() int { return int(l.tolerance/l.interval) + 1 }
