package persona_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

func TestContractIdempotency(t *testing.T) {
	k := newContract(t, sandbox.Options{})
	p := persona.CreateInquiryParams{TemplateID: sandbox.TemplateKYC, ReferenceID: "usr_idem", IdempotencyKey: "same-key"}
	a, err := k.c.CreateInquiry(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.c.CreateInquiry(ctx, p)
	if err != nil || b.ID != a.ID {
		t.Fatalf("replay: %v %v", b, err)
	}
	p.ReferenceID = "usr_other"
	if _, err := k.c.CreateInquiry(ctx, p); err == nil {
		t.Errorf("same key, other parameters: no error")
	}
	if n := k.sb.Stats().InquiriesCreated; n != 1 {
		t.Errorf("created %d, want 1", n)
	}
}

// The answer to the first POST is lost on the way back (the sandbox did create the inquiry):
// the client retries with the same key and Persona's replay gives the same inquiry.
func TestContractLostAnswerIsNotDuplicated(t *testing.T) {
	k := newContract(t, sandbox.Options{})
	var once sync.Once
	lossy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		k.sb.ServeHTTP(rec, r)
		lost := false
		if r.Method == "POST" {
			once.Do(func() { lost = true })
		}
		if lost { // cut the connection instead of answering
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		for key, v := range rec.Header() {
			w.Header()[key] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	defer lossy.Close()
	c := client(lossy.URL, sandbox.DefaultAPIKey)
	q, err := c.CreateInquiry(ctx, persona.CreateInquiryParams{TemplateID: sandbox.TemplateKYC, ReferenceID: "usr_lost", IdempotencyKey: "k-lost"})
	if err != nil {
		t.Fatal(err)
	}
	if n := k.sb.Stats().InquiriesCreated; n != 1 {
		t.Fatalf("created %d inquiries, want 1 (%s)", n, q.ID)
	}
	if _, retries := c.Stats(); retries != 1 {
		t.Errorf("retries %d, want 1", retries)
	}
}

func TestContractRetriesThroughFaults(t *testing.T) {
	k := newContract(t, sandbox.Options{})
	k.sb.SetKnobs(sandbox.Knobs{ErrorRate: 0.5})
	for i := 0; i < 10; i++ {
		if _, err := k.c.CreateInquiry(ctx, persona.CreateInquiryParams{TemplateID: sandbox.TemplateKYC, IdempotencyKey: fmt.Sprintf("k-fault-%d", i)}); err != nil {
			t.Fatalf("create %d through 50%% errors: %v", i, err)
		}
	}
	if n := k.sb.Stats().InquiriesCreated; n != 10 {
		t.Errorf("created %d, want 10", n)
	}
	if _, retries := k.c.Stats(); retries == 0 {
		t.Errorf("no retries at a 50%% error rate")
	}
	// An action without a caller's key gets a fresh one and is retried with that same key.
	k.sb.SetKnobs(sandbox.Knobs{ErrorRate: 1})
	before, _ := k.c.Stats()
	keysBefore := k.sb.Stats().IdempotencyKeys
	if _, err := k.c.ApproveInquiry(ctx, "inq_any", ""); !persona.IsServerError(err) {
		t.Errorf("approve at 100%% errors: %v", err)
	}
	after, _ := k.c.Stats()
	if after-before < 2 {
		t.Errorf("approve sent %d times at 100%% errors, want it retried", after-before)
	}
	var fresh []int64
	for key, n := range k.sb.Stats().IdempotencyKeys {
		if _, old := keysBefore[key]; !old {
			fresh = append(fresh, n)
		}
	}
	if len(fresh) != 1 || fresh[0] != after-before {
		t.Errorf("new keys seen with their counts %v, want one key on all %d tries", fresh, after-before)
	}
}

func TestContractRateLimit(t *testing.T) {
	k := newContract(t, sandbox.Options{})
	k.sb.SetKnobs(sandbox.Knobs{RateLimitPerMinute: 3})
	var err error
	for i := 0; i < 5 && err == nil; i++ {
		short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		_, err = k.c.ListInquiries(short, persona.ListInquiriesParams{})
		cancel()
	}
	if !persona.IsRateLimited(err) || persona.RetryAfter(err) <= 0 || !strings.Contains(persona.Explain(err), "busy") {
		t.Fatalf("after the limit: %v", err)
	}
	if n := k.sb.Stats().APICalls; n > 4 {
		t.Errorf("the client kept calling after the limit: %d calls", n)
	}
}
