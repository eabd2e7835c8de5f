package persona

import (
	"context"
	"net/http"
	"testing"
	"time"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// simulate sends n requests as fast as l allows on a fake clock and returns
// their start times.
func simulate(l *limiter, start time.Time, n int) []time.Time {
	now := start
	out := make([]time.Time, 0, n)
	for range n {
		now = now.Add(l.reserve(now))
		out = append(out, now)
	}
	return out
}

func TestLimiterBurst(t *testing.T) {
	tests := []struct {
		perMinute, wantBurst int
	}{{300, 15}, {60, 3}, {20, 1}, {1, 1}, {0, 1}}
	for _, tc := range tests {
		l := newLimiter(tc.perMinute)
		free := 0
		for i := 0; i < 1000 && l.reserve(t0) == 0; i++ {
			free++
		}
		if free != tc.wantBurst {
			t.Errorf("newLimiter(%d): %d requests without waiting, want %d", tc.perMinute, free, tc.wantBurst)
		}
	}
}

func TestLimiterNeverExceedsPerMinute(t *testing.T) {
	for _, perMinute := range []int{300, 60, 7, 1} {
		l := newLimiter(perMinute)
		times := simulate(l, t0, 3*perMinute+5)
		// Any 60 s window, fixed or sliding, holds at most perMinute requests.
		maxIn := 0
		for i := range times {
			n := 0
			for j := i; j < len(times) && times[j].Sub(times[i]) < time.Minute; j++ {
				n++
			}
			maxIn = max(maxIn, n)
		}
		if maxIn > perMinute {
			t.Errorf("%d/min: %d requests within one minute", perMinute, maxIn)
		}
		// ...and the limiter does not waste much of the allowance.
		if perMinute >= 60 {
			first := 0
			for _, tm := range times {
				if tm.Sub(t0) < time.Minute {
					first++
				}
			}
			if first < perMinute*9/10 {
				t.Errorf("%d/min: only %d requests in the first minute", perMinute, first)
			}
		}
	}
}

func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestLimiterFollowsPersonaHeaders(t *testing.T) {
	t.Run("low remaining spreads requests until the reset", func(t *testing.T) {
		l := newLimiter(6000) // fast on its own, so any spacing comes from the headers
		l.observe(headers("RateLimit-Limit", "300", "RateLimit-Remaining", "10", "RateLimit-Reset", "20"), 200, t0)
		times := simulate(l, t0, 10)
		for i := 1; i < len(times); i++ {
			if gap := times[i].Sub(times[i-1]); gap < 2*time.Second {
				t.Errorf("request %d only %v after the previous, want ≥ 2s (20 s / 10 left)", i, gap)
			}
		}
		// After the reset the spacing no longer applies.
		after := t0.Add(time.Minute)
		if w := l.reserve(after); w != 0 {
			t.Errorf("still waiting %v after the window reset", w)
		}
	})
	t.Run("plenty remaining does not slow down", func(t *testing.T) {
		l := newLimiter(6000)
		l.observe(headers("RateLimit-Limit", "300", "RateLimit-Remaining", "10", "RateLimit-Reset", "20"), 200, t0)
		l.observe(headers("RateLimit-Limit", "300", "RateLimit-Remaining", "290", "RateLimit-Reset", "20"), 200, t0)
		if w := l.reserve(t0); w != 0 {
			t.Errorf("waited %v with 290/300 left", w)
		}
	})
	t.Run("none remaining holds until the reset", func(t *testing.T) {
		l := newLimiter(6000)
		l.observe(headers("RateLimit-Limit", "300", "RateLimit-Remaining", "0", "RateLimit-Reset", "30"), 200, t0)
		if w := l.reserve(t0); w != 30*time.Second {
			t.Errorf("wait = %v, want 30s", w)
		}
	})
	t.Run("429 holds every caller until the reset", func(t *testing.T) {
		l := newLimiter(6000)
		l.observe(headers("RateLimit-Reset", "12"), 429, t0)
		for i := range 3 {
			if w := l.reserve(t0); w < 12*time.Second {
				t.Errorf("caller %d waits %v, want ≥ 12s", i, w)
			}
		}
	})
	t.Run("missing or junk headers change nothing", func(t *testing.T) {
		l := newLimiter(6000)
		l.observe(headers("RateLimit-Limit", "x", "RateLimit-Remaining", "-", "RateLimit-Reset", "soon"), 200, t0)
		l.observe(http.Header{}, 429, t0)
		if w := l.reserve(t0); w != 0 {
			t.Errorf("waited %v", w)
		}
	})
}

func TestLimiterThrottlesClient(t *testing.T) {
	// 60/min: a burst of 3, then one request a second. With 200 ms to go,
	// exactly the burst gets out; the fourth call would outlast the deadline,
	// so it is refused at once as rate limited, without reaching the server.
	var rc recorder
	c := newTestClient(t, rc.handler(okInquiry("inq_1")), func(cfg *Config) { cfg.RateLimit = 60 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var err error
	ok := 0
	for i := 0; i < 10 && err == nil; i++ {
		if _, err = c.GetInquiry(ctx, "inq_1"); err == nil {
			ok++
		}
	}
	if ok != 3 || !IsRateLimited(err) || RetryAfter(err) <= 0 {
		t.Errorf("%d calls passed (err %v), want the burst of 3 then a wait", ok, err)
	}
	if served := len(rc.all()); served != 3 {
		t.Errorf("server saw %d requests, want 3", served)
	}
}
