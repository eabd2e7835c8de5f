package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// Approve during a burst of 429s waits and succeeds, sending one Idempotency-Key on every try.
func TestApproveRetriedThrough429Burst(t *testing.T) {
	e := newMailTestEnv(t, false)
	q := e.create("usr_burst")
	e.sb.SetKnobs(sandbox.Knobs{Throttle: 2})
	res, body := e.do(e.admin, "POST", "/inquiries/"+q.ID+"/decision", url.Values{"action": {"approve"}, "confirmed": {"yes"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve under a 429 burst: %d, want 303: %.300s", res.StatusCode, body)
	}
	if st, _ := e.sb.Inquiry(q.ID); st != "approved" {
		t.Fatalf("sandbox status %q, want approved", st)
	}
	stats := e.sb.Stats()
	if n := stats.Calls["POST /inquiries/{id}/approve"]; n != 3 {
		t.Errorf("approve calls at the sandbox: %d, want 3 (two 429s, then the approval)", n)
	}
	thrice := 0
	for _, n := range stats.IdempotencyKeys {
		if n == 3 {
			thrice++
		}
	}
	if thrice != 1 {
		t.Errorf("want one Idempotency-Key sent three times; keys seen: %v", stats.IdempotencyKeys)
	}
}

// Four simultaneous submits of one Email form (a double click, twice) issue one one-time link at
// Persona and queue one email.
func TestConcurrentEmailSubmitsIssueOneOneTimeLink(t *testing.T) {
	e := newMailTestEnv(t, false)
	q := e.create("usr_clicks")
	if err := e.sb.Start(q.ID); err != nil { // pending: the email needs a one-time link
		t.Fatal(err)
	}
	form := url.Values{"recipient": {"pat@example.com"}, "key": {"form-key-clicks"}}
	var wg sync.WaitGroup
	codes := make([]int, 4)
	for i := range codes {
		wg.Go(func() {
			res, _ := e.do(e.admin, "POST", "/inquiries/"+q.ID+"/email", form)
			codes[i] = res.StatusCode
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusSeeOther {
			t.Errorf("submit %d: %d, want 303", i+1, c)
		}
	}
	if n := e.sb.Stats().Calls["POST /inquiries/{id}/generate-one-time-link"]; n != 1 {
		t.Errorf("one-time links asked of Persona: %d, want 1", n)
	}
	es, err := e.db.ListEmails(t.Context(), db.OutboxFilter{InquiryID: q.ID})
	if err != nil || len(es) != 1 {
		t.Errorf("outbox has %d emails (%v), want 1", len(es), err)
	}
	links, _ := e.db.Links(t.Context(), q.ID)
	oneTime := 0
	for _, l := range links {
		if l.Kind == "one-time" {
			oneTime++
		}
	}
	if oneTime != 1 {
		t.Errorf("one-time links recorded: %d, want 1", oneTime)
	}
}

// Opening an inquiry id Persona does not know, again and again, asks Persona once.
func TestUnknownInquiryMissCached(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	e.addUser("viewer@example.com", db.RoleViewer, pw)
	c := e.signIn("viewer@example.com", pw)
	const id = "inq_NoSuchInquiry1234567890abcdef"
	for i := 0; i < 2; i++ {
		if res, body := e.do(c, "GET", "/inquiries/"+id, nil); res.StatusCode != http.StatusNotFound || !strings.Contains(body, "There is no inquiry "+id) {
			t.Fatalf("GET %d: %d, want 404 in words", i+1, res.StatusCode)
		}
	}
	if n := e.sb.Stats().Calls["GET /inquiries/{id}"]; n != 1 {
		t.Errorf("Persona asked %d times about the unknown id, want 1", n)
	}
}
