package inquiry

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

var ada = model.Actor{ID: 0, Name: "Ada"}

// Four creates for one person at once, each with its own key: one inquiry at Persona.
func TestConcurrentCreatesMakeOneInquiry(t *testing.T) {
	e := newEnv(t)
	// Every Persona call is held open a while, so the four are in flight together.
	e.sb.SetKnobs(sandbox.Knobs{Latency: 150 * time.Millisecond})
	results := make([]*CreateResult, 4)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			res, err := e.svc.Create(context.Background(), agent, alexander(NewKey()))
			if err != nil {
				t.Errorf("create %d: %v", i, err)
				res = &CreateResult{}
			}
			results[i] = res
		})
	}
	wg.Wait()
	if n := e.sb.Stats().InquiriesCreated; n != 1 {
		t.Fatalf("sandbox created %d inquiries, want 1", n)
	}
	created := 0
	for _, r := range results {
		switch {
		case r.Inquiry != nil:
			created++
		case r.Guard == model.GuardInProgress && r.Claim != nil && r.Claim.UserName == agent.Name:
		case r.Guard == model.GuardUseExisting:
		default:
			t.Errorf("result %+v", r)
		}
	}
	if created != 1 {
		t.Fatalf("%d creates succeeded, want 1", created)
	}
}

// crashedClaim leaves what a process that died inside Create leaves: the request stored and
// marked sent, and the claim, at the given time.
func crashedClaim(t *testing.T, e *env, key string, in CreateInput, at time.Time) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.db.BeginInquiryRequest(ctx, dbRequest(key, in)); err != nil {
		t.Fatal(err)
	}
	held, _, err := e.db.ClaimReference(ctx, db.ReferenceClaim{ReferenceID: in.ReferenceID, Key: key, TemplateID: in.TemplateID, UserName: ada.Name, ClaimedAt: at}, at.Add(-claimTTL))
	if err != nil || held != nil {
		t.Fatalf("claim: held %+v, %v", held, err)
	}
	if err := e.db.MarkInquiryRequestSent(ctx, key); err != nil {
		t.Fatal(err)
	}
}

// While Ada's create is in flight, Bob is told so and nothing is sent to Persona for him;
// Ada's own retry (the same form) goes ahead under her claim.
func TestClaimInFlightGuards(t *testing.T) {
	e := newEnv(t)
	adaKey := NewKey()
	crashedClaim(t, e, adaKey, alexander(adaKey), time.Now().Add(-10*time.Second))
	calls := e.sb.Stats().APICalls

	res := e.create(t, alexander(NewKey()))
	if res.Guard != model.GuardInProgress || res.Claim == nil || res.Claim.UserName != "Ada" || res.Inquiry != nil {
		t.Fatalf("Bob's create during Ada's: %+v", res)
	}
	if got := e.sb.Stats().APICalls; got != calls {
		t.Errorf("Bob's guarded create made %d Persona calls", got-calls)
	}

	mine := e.create(t, alexander(adaKey))
	if mine.Inquiry == nil {
		t.Fatalf("Ada's retry: %+v", mine)
	}
	if n := e.sb.Stats().InquiriesCreated; n != 1 {
		t.Fatalf("sandbox created %d inquiries, want 1", n)
	}
	// Saved: the claim is gone, and the next form for the person meets the usual guard.
	again := e.create(t, alexander(NewKey()))
	if again.Guard != model.GuardUseExisting || again.Existing.ID != mine.Inquiry.ID {
		t.Fatalf("after Ada's create: %+v", again)
	}
}

// A claim left by a crash longer ago than the create timeout is recovered: if the create had
// reached Persona, its inquiry is adopted (looked up by reference ID), otherwise the new create
// proceeds. Either way there is one inquiry.
func TestClaimLeftByCrashIsRecovered(t *testing.T) {
	ctx := context.Background()
	long := time.Now().Add(-claimTTL - time.Minute)

	t.Run("created at Persona before the crash", func(t *testing.T) {
		e := newEnv(t)
		adaKey := NewKey()
		in := alexander(adaKey)
		crashedClaim(t, e, adaKey, in, long)
		c, _ := e.svc.Client()
		p, err := c.CreateInquiry(ctx, persona.CreateInquiryParams{TemplateID: in.TemplateID, ReferenceID: in.ReferenceID, Fields: in.Fields, IdempotencyKey: adaKey})
		if err != nil {
			t.Fatal(err)
		}
		// ... crash. Bob creates for the same person.
		res := e.create(t, alexander(NewKey()))
		if res.Guard != model.GuardUseExisting || res.Existing == nil || res.Existing.ID != p.ID {
			t.Fatalf("Bob after the crash: %+v, want Persona's %s adopted", res, p.ID)
		}
		// Ada presses Create again on her old form: no second inquiry either.
		mine := e.create(t, in)
		if mine.Guard != model.GuardUseExisting || mine.Existing.ID != p.ID {
			t.Fatalf("Ada's retry after the recovery: %+v", mine)
		}
		if n := e.sb.Stats().InquiriesCreated; n != 1 {
			t.Fatalf("sandbox created %d inquiries, want 1", n)
		}
	})

	t.Run("crashed before Persona was called", func(t *testing.T) {
		e := newEnv(t)
		adaKey := NewKey()
		crashedClaim(t, e, adaKey, alexander(adaKey), long)
		res := e.create(t, alexander(NewKey()))
		if res.Inquiry == nil {
			t.Fatalf("Bob after the crash: %+v, want the inquiry created", res)
		}
		mine := e.create(t, alexander(adaKey))
		if mine.Guard != model.GuardUseExisting || mine.Existing.ID != res.Inquiry.ID {
			t.Fatalf("Ada's retry after the recovery: %+v", mine)
		}
		if n := e.sb.Stats().InquiriesCreated; n != 1 {
			t.Fatalf("sandbox created %d inquiries, want 1", n)
		}
	})
}

// Persona refusing the create releases the claim at once: nothing was created, so the corrected
// form (or a colleague's) goes ahead without waiting.
func TestRefusedCreateReleasesClaim(t *testing.T) {
	e := newEnv(t)
	bad := alexander(NewKey())
	bad.TemplateID = "itmpl_doesNotExist1234567890"
	if _, err := e.svc.Create(context.Background(), ada, bad); err == nil || !persona.IsRefused(err) {
		t.Fatalf("create with an unknown template: %v", err)
	}
	res := e.create(t, alexander(NewKey()))
	if res.Inquiry == nil {
		t.Fatalf("create after the refusal: %+v", res)
	}
}
