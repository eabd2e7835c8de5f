package persona

import (
	"testing"
	"time"
)

// Background work waits while the budget is down to its reserve, and goes again once the
// schedule has refilled past it.
func TestLimiterHeadroom(t *testing.T) {
	l := newLimiter(300) // burst 15
	if d := l.headroomWait(t0, 5); d != 0 {
		t.Fatalf("fresh limiter: wait %s, want 0", d)
	}
	for range 10 { // staff use 10 of 15
		l.reserve(t0)
	}
	if d := l.headroomWait(t0, 5); d <= 0 {
		t.Fatalf("5 left, reserve 5: wait %s, want > 0", d)
	}
	if d := l.headroomWait(t0, 4); d != 0 {
		t.Fatalf("5 left, reserve 4: wait %s, want 0", d)
	}
	d := l.headroomWait(t0, 5)
	if d != l.interval {
		t.Fatalf("wait %s, want one interval %s", d, l.interval)
	}
	if got := l.headroomWait(t0.Add(d), 5); got != 0 {
		t.Fatalf("after the wait: %s more", got)
	}
	l.hold(t0.Add(time.Minute))
	if got := l.headroomWait(t0.Add(d), 0); got < 50*time.Second {
		t.Fatalf("during a hold: wait %s", got)
	}
}
