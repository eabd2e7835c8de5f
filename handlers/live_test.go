package handlers

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

type sseEvent struct{ name, data string }

// openSSE opens an event stream as EventSource would and delivers its events on a channel,
// closed when the stream ends; lastID, when set, is sent as a reconnecting browser would.
func (e *testEnv) openSSE(c *http.Client, path string, lastID ...string) (<-chan sseEvent, func()) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	if len(lastID) > 0 {
		req.Header.Set("Last-Event-ID", lastID[0])
	}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		e.t.Fatalf("stream %s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	ch := make(chan sseEvent, 100)
	go func() {
		defer close(ch)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				if ev.data != "" {
					ev.data += "\n"
				}
				ev.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return ch, cancel
}

// waitEvent returns the first event named name whose data contains text.
func waitEvent(t *testing.T, ch <-chan sseEvent, name, text string) sseEvent {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("stream ended before %s with %q", name, text)
			}
			if ev.name == name && strings.Contains(ev.data, text) {
				return ev
			}
			if strings.HasPrefix(name, "inq-") && ev.name == "new" && strings.Contains(ev.data, strings.TrimPrefix(name, "inq-")) {
				t.Fatalf("the row was sent as new again while waiting for %s", name)
			}
		case <-timeout:
			t.Fatalf("no %s event with %q within 5 s", name, text)
		}
	}
}

func TestLiveStreams(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	ctx := context.Background()
	e.addUser("viewer@example.com", db.RoleViewer, pw)
	c := e.signIn("viewer@example.com", pw)
	var ids []string
	for i := range 2 {
		res, err := e.inq.Create(ctx, agentActor, createInput(fmt.Sprintf("live-%d", i), false))
		noErr(t, err)
		ids = append(ids, res.Inquiry.ID)
	}
	if res, _ := e.do(c, "GET", "/events/inquiries", nil); res.StatusCode != http.StatusNotAcceptable {
		t.Errorf("a plain GET of the stream: %d", res.StatusCode)
	}

	all, stopAll := e.openSSE(c, fmt.Sprintf("/events/inquiries?since=%d", time.Now().UnixMilli()))
	defer stopAll()
	onlyApproved, stopApproved := e.openSSE(c, "/events/inquiries?status=approved")
	defer stopApproved()
	detail, stopDetail := e.openSSE(c, "/events/inquiries/"+ids[0])
	defer stopDetail()
	// No wait needed: a stream subscribes to the hub before it sends its headers, and openSSE
	// returns once they arrive.

	// The person completes the flow: the row on the open list turns approved.
	noErr(t, e.sb.Complete(ids[0], true))
	ev := waitEvent(t, all, "inq-"+ids[0], "Approved")
	if strings.Contains(ev.data, "<tr") || !strings.Contains(ev.data, `<a href="/inquiries/`+ids[0]+`">`) {
		t.Errorf("a shown row is sent its cells only: %s", ev.data)
	}
	waitEvent(t, detail, "status", "Approved")
	waitEvent(t, detail, "changed", ids[0])
	// It now matches the approved-only list, which shows it on top.
	waitEvent(t, onlyApproved, "new", ids[0])

	// A new inquiry appears on the unfiltered list, not on the approved-only one.
	res, err := e.inq.Create(ctx, agentActor, createInput("live-new", false))
	noErr(t, err)
	waitEvent(t, all, "new", res.Inquiry.ID)
	noErr(t, e.sb.Complete(ids[1], false))
	waitEvent(t, all, "inq-"+ids[1], "Failed")
	for len(onlyApproved) > 0 {
		if ev := <-onlyApproved; strings.Contains(ev.data, res.Inquiry.ID) || strings.Contains(ev.data, ids[1]) {
			t.Errorf("the approved-only list was sent %s: %s", ev.name, ev.data)
		}
	}

	// Shutting down ends every stream.
	e.srv.CloseStreams()
	for _, ch := range []<-chan sseEvent{all, onlyApproved, detail} {
		select {
		case <-drain(ch):
		case <-time.After(3 * time.Second):
			t.Fatal("a stream outlived CloseStreams")
		}
	}
}

func drain(ch <-chan sseEvent) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		for range ch {
		}
		close(done)
	}()
	return done
}

// TestLiveCatchUp: a stream opened after the page was rendered sends what changed in between;
// one reopened after a drop (Last-Event-ID) sends only what came after its last event.
func TestLiveCatchUp(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	ctx := context.Background()
	e.addUser("viewer@example.com", db.RoleViewer, pw)
	c := e.signIn("viewer@example.com", pw)
	rendered := time.Now().Add(-time.Second).UnixMilli()
	res, err := e.inq.Create(ctx, agentActor, createInput("catch-up", false))
	noErr(t, err)
	id := res.Inquiry.ID

	late, stop := e.openSSE(c, fmt.Sprintf("/events/inquiries?since=%d", rendered))
	waitEvent(t, late, "new", id)
	stop()

	again, stop2 := e.openSSE(c, fmt.Sprintf("/events/inquiries?since=%d", rendered), fmt.Sprint(time.Now().UnixMilli()))
	defer stop2()
	noErr(t, e.sb.Complete(id, true))
	waitEvent(t, again, "inq-"+id, "Approved") // fails if the row comes as "new" again first
}
