package handlers

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// Four staff members create an inquiry for the same person at the same moment, each with a
// form of their own (different keys): Persona gets one inquiry, the others meet the guard.
func TestConcurrentCreatesForOneReferenceMakeOne(t *testing.T) {
	// Latency holds every Persona call open, so all four requests are in flight together
	// (each one's reference lookup happens before anyone's create reaches Persona).
	e := newSandboxEnv(t, sandbox.Knobs{Latency: 150 * time.Millisecond}, nil)
	const n = 4
	clients := make([]*http.Client, n)
	for i := range clients {
		email := fmt.Sprintf("staff%d@example.com", i)
		e.addUser(email, db.RoleAgent, pw)
		clients[i] = e.signIn(email, pw)
	}
	type answer struct {
		status int
		loc    string
		body   string
	}
	answers := make([]answer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range clients {
		wg.Go(func() {
			<-start
			res, body := e.do(c, "POST", "/inquiries", alexanderForm(fmt.Sprintf("%032x", i+1)))
			answers[i] = answer{res.StatusCode, res.Header.Get("Location"), body}
		})
	}
	close(start)
	wg.Wait()

	if got := e.sb.Stats().InquiriesCreated; got != 1 {
		t.Fatalf("sandbox created %d inquiries for one reference ID, want 1", got)
	}
	created, guarded := 0, 0
	for i, a := range answers {
		switch {
		case a.status == http.StatusSeeOther && strings.HasPrefix(a.loc, "/inquiries/inq_"):
			created++
		case a.status == http.StatusConflict && strings.Contains(a.body, "is being created by staff") && strings.Contains(a.body, "Try again in a moment"):
			guarded++
		// One that came after the create finished meets the usual guard, with its link.
		case a.status == http.StatusConflict && strings.Contains(a.body, "Use existing inquiry"):
			guarded++
		default:
			t.Errorf("request %d: status %d, location %q, body %.300q", i, a.status, a.loc, a.body)
		}
	}
	if created != 1 || guarded != n-1 {
		t.Fatalf("%d created and %d guarded, want 1 and %d", created, guarded, n-1)
	}
	var id string
	for _, a := range answers {
		if a.status == http.StatusSeeOther {
			id, _, _ = strings.Cut(strings.TrimPrefix(a.loc, "/inquiries/"), "#")
		}
	}
	// Trying again (the same form) now leads to the inquiry that was made, and says who made it.
	for i, a := range answers {
		if a.status == http.StatusSeeOther {
			continue
		}
		res, body := e.do(clients[i], "POST", "/inquiries", alexanderForm(fmt.Sprintf("%032x", i+1)))
		if res.StatusCode != http.StatusConflict || !strings.Contains(body, `href="/inquiries/`+id+`"`) || !strings.Contains(body, "Use existing inquiry") {
			t.Fatalf("request %d tried again: status %d, body %.300q", i, res.StatusCode, body)
		}
		if !regexp.MustCompile(`created <time [^>]*>[^<]*</time>\s*by staff\d`).MatchString(body) {
			t.Errorf("the guard does not say who created %s", id)
		}
	}
	if got := e.sb.Stats().InquiriesCreated; got != 1 {
		t.Fatalf("sandbox created %d inquiries after the retries, want 1", got)
	}
}
