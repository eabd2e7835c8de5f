package db

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/model"
)

func TestWebhookStoreAndApply(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "wh.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	row := func(status string, at time.Time) *Inquiry {
		return &Inquiry{ID: "inq_1", Status: model.Status(status), CreatedAt: t0, UpdatedAt: at, VersionAt: at}
	}
	ev := func(id string) WebhookEvent {
		return WebhookEvent{ID: id, Name: "inquiry.x", InquiryID: "inq_1", EventAt: t0, ReceivedAt: time.Now(), Payload: "{}"}
	}
	store := func(ids ...string) []bool {
		var evs []WebhookEvent
		for _, id := range ids {
			evs = append(evs, ev(id))
		}
		fresh, err := d.StoreWebhookEvents(ctx, evs, nil)
		if err != nil {
			t.Fatal(err)
		}
		return fresh
	}
	apply := func(items ...EventApply) []string {
		v, _, err := d.ApplyWebhookEvents(ctx, items)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	status := func() string {
		q, err := d.GetInquiry(ctx, "inq_1")
		if err != nil {
			t.Fatal(err)
		}
		return string(q.Status)
	}

	if f := store("evt_a", "evt_b", "evt_c", "evt_d", "evt_e"); !f[0] || !f[4] {
		t.Fatalf("fresh events not stored: %v", f)
	}
	if f := store("evt_a"); f[0] {
		t.Fatal("a duplicate was stored again")
	}
	pending, _ := d.PendingWebhookEvents(ctx, 10)
	if len(pending) != 5 {
		t.Fatalf("%d pending, want 5", len(pending))
	}
	// An unknown inquiry is adopted; then a later state wins and an older one is stale.
	if v := apply(EventApply{"evt_b", row("pending", t0.Add(2*time.Second))}); v[0] != VerdictApplied || status() != "pending" {
		t.Fatalf("adopt: %v, status %s", v, status())
	}
	if v := apply(EventApply{"evt_a", row("created", t0)}); v[0] != VerdictStale || status() != "pending" {
		t.Fatalf("older event: %v, status %s", v, status())
	}
	// Same timestamp: the later lifecycle stage wins, whatever the arrival order.
	same := t0.Add(5 * time.Second)
	apply(EventApply{"evt_d", row("approved", same)})
	if v := apply(EventApply{"evt_c", row("completed", same)}); v[0] != VerdictStale || status() != "approved" {
		t.Fatalf("tie: %v, status %s", v, status())
	}
	// Applying twice (receiver and re-apply pass racing) counts once.
	if v := apply(EventApply{"evt_d", row("approved", same)}); v[0] != VerdictApplied {
		t.Fatalf("second apply of an applied event: %v", v)
	}
	if v := apply(EventApply{"evt_e", nil}); v[0] != VerdictIgnored {
		t.Fatalf("no inquiry: %v", v)
	}
	if _, err := d.StoreWebhookEvents(ctx, nil, []Rejection{{Verdict: VerdictBadSignature, Detail: "mismatch", At: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	st, err := d.WebhookStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{VerdictApplied: 2, VerdictStale: 2, VerdictIgnored: 1, VerdictDuplicate: 1, VerdictBadSignature: 1}
	for k, n := range want {
		if st.Counters[k].N != n {
			t.Errorf("%s counted %d, want %d", k, st.Counters[k].N, n)
		}
	}
	if st.Pending != 0 || st.LastReceived.IsZero() {
		t.Errorf("pending %d, last received %v", st.Pending, st.LastReceived)
	}
}
