package inquiry

import (
	"context"
	"errors"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// The key of an action is stored before the call: when Persona stays unavailable past the
// retries (or Linkdesk stops mid-call), the next attempt sends the same key, so Persona applies
// the action once; after success the key is dropped.
func TestActionKeyStoredBeforeCallAndReused(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	q := e.create(t, alexander(NewKey())).Inquiry
	e.sb.SetKnobs(sandbox.Knobs{ErrorRate: 1})
	if _, err := e.svc.Decide(ctx, agent, q.ID, "approve", "looks right"); !persona.IsUnavailable(err) {
		t.Fatalf("approve while Persona fails: %v, want unavailable", err)
	}
	var key string
	if err := e.db.R.QueryRowContext(ctx, `SELECT idempotency_key FROM action_keys WHERE inquiry_id = ? AND action = 'approve'`, q.ID).Scan(&key); err != nil {
		t.Fatalf("no stored key after a failed approve: %v", err)
	}
	failed := e.sb.Stats().IdempotencyKeys[key]
	if failed < 2 {
		t.Fatalf("the key was sent %d times; want the failing approve retried with it", failed)
	}
	e.sb.SetKnobs(sandbox.Knobs{})
	got, err := e.svc.Decide(ctx, agent, q.ID, "approve", "looks right")
	if err != nil || got.Status != "approved" {
		t.Fatalf("approve once Persona is back: %+v %v", got, err)
	}
	if n := e.sb.Stats().IdempotencyKeys[key]; n != failed+1 {
		t.Errorf("the second approve did not reuse the stored key (sent %d times, want %d)", n, failed+1)
	}
	var left int
	e.db.R.QueryRowContext(ctx, `SELECT count(*) FROM action_keys WHERE inquiry_id = ?`, q.ID).Scan(&left)
	if left != 0 {
		t.Errorf("%d action keys left after success", left)
	}
}

// An unknown id is remembered as unknown until something (a webhook, a sync) brings it.
func TestFindCachesMissUntilChanged(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	const id = "inq_NoSuchInquiry1234567890abcdef"
	calls := func() int64 { return e.sb.Stats().Calls["GET /inquiries/{id}"] }
	for i := 0; i < 3; i++ {
		if _, err := e.svc.Find(ctx, model.System, id); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("find %d: %v, want not found", i+1, err)
		}
	}
	if n := calls(); n != 1 {
		t.Fatalf("%d Persona calls for three looks, want 1", n)
	}
	e.svc.changed(id) // what Apply and the reconciler call when they store a row
	e.svc.Find(ctx, model.System, id)
	if n := calls(); n != 2 {
		t.Errorf("after the id was brought in, %d calls, want the miss forgotten (2)", n)
	}
}
