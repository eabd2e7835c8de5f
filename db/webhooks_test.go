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
	if v := apply(EventApply{ev("evt_b"), row("pending", t0.Add(2*time.Second))}); v[0] != VerdictApplied || status() != "pending" {
		t.Fatalf("adopt: %v, status %s", v, status())
	}
	if v := apply(EventApply{ev("evt_a"), row("created", t0)}); v[0] != VerdictStale || status() != "pending" {
		t.Fatalf("older event: %v, status %s", v, status())
	}
	// Same timestamp: the later lifecycle stage wins, whatever the arrival order.
	same := t0.Add(5 * time.Second)
	apply(EventApply{ev("evt_d"), row("approved", same)})
	if v := apply(EventApply{ev("evt_c"), row("completed", same)}); v[0] != VerdictStale || status() != "approved" {
		t.Fatalf("tie: %v, status %s", v, status())
	}
	// Applying twice (receiver and re-apply pass racing) counts once.
	if v := apply(EventApply{ev("evt_d"), row("approved", same)}); v[0] != VerdictApplied {
		t.Fatalf("second apply of an applied event: %v", v)
	}
	if v := apply(EventApply{ev("evt_e"), nil}); v[0] != VerdictIgnored {
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

// Receiving stores and applies in one commit; an apply that fails (here on a cached row whose
// fields are not JSON) is undone whole, for every event of the batch, leaving them all stored
// and waiting to be applied.
func TestReceiveWebhookEventsKeepsTheEventWhenApplyFails(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "wh.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	received := func(id, inq, status string, at time.Time) EventApply {
		return EventApply{
			Event: WebhookEvent{ID: id, Name: "inquiry." + status, InquiryID: inq, EventAt: at, ReceivedAt: time.Now(), Payload: "{}"},
			Row:   &Inquiry{ID: inq, Status: model.Status(status), CreatedAt: t0, UpdatedAt: at, VersionAt: at},
		}
	}
	fresh, changed, applyErr, err := d.ReceiveWebhookEvents(ctx, []EventApply{received("evt_1", "inq_1", "pending", t0)}, nil)
	if err != nil || applyErr != nil || !fresh[0] || len(changed) != 1 {
		t.Fatalf("first delivery: fresh %v, changed %v, apply error %v, error %v", fresh, changed, applyErr, err)
	}
	if _, err := d.W.ExecContext(ctx, `UPDATE inquiries SET fields = 'not json' WHERE id = 'inq_1'`); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Minute)
	fresh, changed, applyErr, err = d.ReceiveWebhookEvents(ctx,
		[]EventApply{received("evt_2", "inq_2", "pending", later), received("evt_3", "inq_1", "completed", later)},
		[]Rejection{{Verdict: VerdictBadSignature, At: time.Now()}})
	if err != nil || applyErr == nil || !fresh[0] || !fresh[1] || len(changed) != 0 {
		t.Fatalf("delivery onto a broken row: fresh %v, changed %v, apply error %v, error %v", fresh, changed, applyErr, err)
	}
	q, err := d.GetInquiry(ctx, "inq_1")
	if err != nil || q.Status != "pending" {
		t.Fatalf("status %v (%v), want pending: a failed apply must write nothing", q, err)
	}
	if q, err := d.GetInquiry(ctx, "inq_2"); err == nil {
		t.Fatalf("inq_2 adopted (%s) by a batch whose apply failed", q.Status)
	}
	pending, err := d.PendingWebhookEvents(ctx, 10)
	if err != nil || len(pending) != 2 {
		t.Fatalf("pending %v (%v), want evt_2 and evt_3 stored and waiting", pending, err)
	}
	st, err := d.WebhookStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Counters[VerdictApplied].N != 1 || st.Counters[VerdictBadSignature].N != 1 {
		t.Errorf("applied counted %d, refused %d; want 1 and 1", st.Counters[VerdictApplied].N, st.Counters[VerdictBadSignature].N)
	}
}
