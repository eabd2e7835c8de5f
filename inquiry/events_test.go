package inquiry

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/persona"
)

func testEvent(t *testing.T, evt, inq, status string, at time.Time) *persona.Event {
	t.Helper()
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	body, _ := json.Marshal(map[string]any{"data": map[string]any{"type": "event", "id": evt, "attributes": map[string]any{
		"name": "inquiry." + status, "created-at": ts(at),
		"payload": map[string]any{"data": map[string]any{"type": "inquiry", "id": inq, "attributes": map[string]any{
			"status": status, "created-at": ts(at.Add(-time.Hour)), "updated-at": ts(at), "reference-id": "ref-" + inq,
		}}},
	}}})
	ev, err := persona.ParseEvent(body)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestReceiveEventsConcurrently delivers every inquiry's lifecycle from many goroutines at once,
// shuffled and partly twice: every delivery is answered, stored once, and each inquiry ends at
// its newest status with the verdicts adding up.
func TestReceiveEventsConcurrently(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	statuses := []string{"created", "pending", "completed", "approved"}
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var evs []*persona.Event
	const inquiries = 60
	for i := range inquiries {
		for j, st := range statuses {
			evs = append(evs, testEvent(t, fmt.Sprintf("evt_c%dx%d", i, j), fmt.Sprintf("inq_c%d", i), st, base.Add(time.Duration(j)*time.Second)))
		}
	}
	unique := len(evs)
	evs = append(evs, evs[:unique/3]...)
	rand.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })

	var wg sync.WaitGroup
	var mu sync.Mutex
	dups := 0
	for _, ev := range evs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, err := e.svc.ReceiveEvent(ctx, ev)
			if err != nil {
				t.Error(err)
				return
			}
			if rec.Duplicate {
				mu.Lock()
				dups++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if dups != len(evs)-unique {
		t.Fatalf("%d duplicates reported, want %d", dups, len(evs)-unique)
	}
	deadline := time.Now().Add(30 * time.Second) // generous: -race on a busy machine makes one apply pass slow
	for {
		st, err := e.db.WebhookStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending == 0 && st.Counters[db.VerdictApplied].N+st.Counters[db.VerdictStale].N == int64(unique) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all applied: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := range inquiries {
		q, err := e.db.GetInquiry(ctx, fmt.Sprintf("inq_c%d", i))
		if err != nil || q.Status != "approved" {
			t.Fatalf("inq_c%d: %v %+v", i, err, q)
		}
	}
}

// TestFutureEventVersionClamped: an event (or its payload's updated-at) dated a year ahead is
// believed only up to the receive time plus the signature tolerance, on receipt and when a
// stored event is applied after a restart.
func TestFutureEventVersionClamped(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	year := time.Now().AddDate(1, 0, 0)
	limit := time.Now().Add(persona.DefaultWebhookTolerance + time.Second)

	ev := testEvent(t, "evt_fut1", "inq_fut1", "completed", year)
	if _, err := e.svc.ReceiveEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	// Stored as if the process stopped before applying: the payload alone is a year ahead.
	p := testEvent(t, "evt_fut2", "inq_fut2", "completed", year)
	if _, err := e.db.StoreWebhookEvents(ctx, []db.WebhookEvent{{ID: p.ID, Name: p.Name, InquiryID: p.PayloadID,
		EventAt: time.Now(), ReceivedAt: time.Now(), Payload: string(p.Payload)}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ApplyPending(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"inq_fut1", "inq_fut2"} {
		deadline := time.Now().Add(10 * time.Second)
		q, err := e.db.GetInquiry(ctx, id)
		for err != nil && time.Now().Before(deadline) { // the first is applied just after receipt
			time.Sleep(10 * time.Millisecond)
			q, err = e.db.GetInquiry(ctx, id)
		}
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if q.VersionAt.After(limit) {
			t.Errorf("%s: version %s, beyond receipt plus tolerance", id, q.VersionAt)
		}
	}
}
