package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/internal/seed"
	"github.com/linkdesk/linkdesk/live"
)

// One viewer signed in 130 times once held all 1,000 stream slots: the cap is the account's,
// however many times it signs in; others still get theirs.
func TestStreamCapIsPerAccount(t *testing.T) {
	e, _ := newLiveEnv(t, live.Limits{PerAccount: 3, Total: 100})
	e.addUser("vic@example.com", db.RoleViewer, pw)
	e.addUser("val@example.com", db.RoleViewer, pw)
	for i := range 3 {
		res, _, closeFn := e.tryStream(e.signIn("vic@example.com", pw), "/events/inquiries", "")
		defer closeFn()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("vic's stream %d: %d", i+1, res.StatusCode)
		}
	}
	res, body, _ := e.tryStream(e.signIn("vic@example.com", pw), "/events/inquiries", "")
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Your account already has 3 live-update connections") {
		t.Fatalf("vic's 4th stream, from a 4th sign-in: %d %.300s", res.StatusCode, body)
	}
	res, _, closeFn := e.tryStream(e.signIn("val@example.com", pw), "/events/inquiries", "")
	defer closeFn()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("another account's stream: %d", res.StatusCode)
	}
}

// A change is counted and rendered once per distinct filter, not once per open stream (130
// streams made one webhook cost 17.8 s of CPU).
func TestChangeRenderedOncePerFilter(t *testing.T) {
	e := newTestEnv(t)
	noErr(t, seed.Inquiries(context.Background(), e.db.W, seed.Options{N: 50, Now: time.Now(), Span: 24 * time.Hour, Users: 2, Seed: 5}))
	var id string
	noErr(t, e.db.R.QueryRow("SELECT id FROM inquiries ORDER BY created_at DESC LIMIT 1").Scan(&id))
	var streams []<-chan sseEvent
	for i := range 12 {
		email := fmt.Sprintf("v%d@example.com", i%3)
		if i < 3 {
			e.addUser(email, db.RoleViewer, pw)
		}
		path := "/events/inquiries?counted=1" // the page came with its counts: the stream sends none as it opens
		if i%2 == 1 {
			path += "&template=" + "itmpl_none"
		}
		ch, closeFn := e.openSSE(e.signIn(email, pw), path)
		t.Cleanup(closeFn)
		streams = append(streams, ch)
	}
	before := e.srv.live.SharedRuns()
	e.srv.live.Publish(id)
	for i, ch := range streams {
		waitEvent(t, ch, "counts", "")
		if i%2 == 0 { // the unfiltered page shows the row: its cells follow the counts
			waitEvent(t, ch, "inq-"+id, "")
		}
	}
	// Per stream that was 12 + 12 counts and 6 rows' cells; now each filter's counts once and
	// the row's cells (shown on the unfiltered page) once.
	if n := e.srv.live.SharedRuns() - before; n != 3 {
		t.Errorf("one change to 12 streams of 2 filters: %d renders, want 3", n)
	}
}
