package live

import (
	"errors"
	"slices"
	"testing"
)

func TestPublishReachesSubscribers(t *testing.T) {
	h := New(Limits{})
	all, one := h.Subscribe(""), h.Subscribe("inq_b")
	h.Publish("inq_b")
	h.Publish("inq_a")
	h.Publish("inq_b") // coalesced: a subscriber takes each id once
	select {
	case <-all.Wake():
	default:
		t.Fatal("the list subscriber was not woken")
	}
	if got := all.Take(); !slices.Equal(got, []string{"inq_a", "inq_b"}) {
		t.Fatalf("list subscriber took %v", got)
	}
	if got := one.Take(); !slices.Equal(got, []string{"inq_b"}) {
		t.Fatalf("detail subscriber took %v, want only its inquiry", got)
	}
	if got := all.Take(); len(got) != 0 {
		t.Fatalf("taken twice: %v", got)
	}
	if h.Version() != 3 {
		t.Fatalf("version %d after 3 changes", h.Version())
	}
	h.Unsubscribe(all)
	h.Publish("inq_c")
	if got := all.Take(); len(got) != 0 {
		t.Fatalf("unsubscribed still collects %v", got)
	}
}

func TestAcquireLimits(t *testing.T) {
	h := New(Limits{PerAccount: 2, Total: 3})
	for range 2 {
		if err := h.Acquire("s1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Acquire("s1"); !errors.Is(err, ErrAccountStreams) {
		t.Fatalf("third stream of one account: %v", err)
	}
	if err := h.Acquire("s2"); err != nil {
		t.Fatal(err)
	}
	if err := h.Acquire("s3"); !errors.Is(err, ErrTotalStreams) {
		t.Fatalf("fourth stream in all: %v", err)
	}
	h.Release("s1")
	if err := h.Acquire("s3"); err != nil {
		t.Fatalf("after a release: %v", err)
	}
}

func TestClose(t *testing.T) {
	h := New(Limits{})
	h.Close()
	h.Close() // twice is fine: the server may shut down from two places
	select {
	case <-h.Closed():
	default:
		t.Fatal("Closed not closed")
	}
}
