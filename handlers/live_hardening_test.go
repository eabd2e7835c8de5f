package handlers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/internal/testkit"
	"github.com/linkdesk/linkdesk/live"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// newLiveEnv is the sandbox environment with the given stream limits; its log goes to the
// returned buffer.
func newLiveEnv(t *testing.T, limits live.Limits) (*sandboxEnv, *testkit.Logs) {
	t.Helper()
	logs := &testkit.Logs{}
	e := newSandboxEnvWith(t, sandbox.Knobs{}, nil, wiring{limits: limits, log: logs.Logger()})
	return e, logs
}

// tryStream opens an event stream as EventSource would; a 200 stream stays open until close.
// Other answers are read in full into body.
func (e *testEnv) tryStream(c *http.Client, path string, lastID string) (res *http.Response, body string, closeFn func()) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := c.Do(req)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	if res.StatusCode == http.StatusOK {
		return res, "", func() { cancel(); res.Body.Close() }
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	cancel()
	return res, string(b), func() {}
}

// ended reports on the channel's close.
func waitEnded(t *testing.T, what string, ch <-chan sseEvent) {
	t.Helper()
	select {
	case <-drain(ch):
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: the stream is still open after 5 s", what)
	}
}

// TestLiveStreamsEndWhenSessionRevoked: an open stream stops once its session is signed out,
// its account disabled, its role changed or its password reset; other sessions' streams stay.
func TestLiveStreamsEndWhenSessionRevoked(t *testing.T) {
	e, _ := newLiveEnv(t, live.Limits{Recheck: 20 * time.Millisecond})
	ctx := context.Background()
	res, err := e.inq.Create(ctx, agentActor, createInput("revoke", false))
	noErr(t, err)
	id := res.Inquiry.ID
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	admin := e.signIn("admin@example.com", pw)
	bystander, stopBystander := e.openSSE(admin, "/events/inquiries/"+id)
	defer stopBystander()

	cases := []struct {
		name   string
		stream string
		revoke func(c *http.Client, userID int64) *http.Response
	}{
		{"sign-out", "/events/inquiries", func(c *http.Client, _ int64) *http.Response {
			res, _ := e.do(c, "POST", "/logout", nil)
			return res
		}},
		{"disable", "/events/inquiries/" + id, func(_ *http.Client, uid int64) *http.Response {
			res, _ := e.do(admin, "POST", fmt.Sprintf("/staff/%d", uid), url.Values{"action": {"disable"}})
			return res
		}},
		{"role change", "/events/inquiries", func(_ *http.Client, uid int64) *http.Response {
			res, _ := e.do(admin, "POST", fmt.Sprintf("/staff/%d", uid), url.Values{"role": {string(db.RoleAgent)}})
			return res
		}},
		{"password reset", "/events/inquiries/" + id, func(_ *http.Client, uid int64) *http.Response {
			u, _ := e.db.UserByID(t.Context(), uid)
			res, _ := e.do(e.client(), "POST", "/password/reset", url.Values{"token": {e.resetToken(u.Email)}, "password": {"a-brand-new-password"}})
			return res
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			email := fmt.Sprintf("viewer%d@example.com", i)
			uid := e.addUser(email, db.RoleViewer, pw)
			c := e.signIn(email, pw)
			ch, stop := e.openSSE(c, tc.stream)
			defer stop()
			if res := tc.revoke(c, uid); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: %d", tc.name, res.StatusCode)
			}
			waitEnded(t, tc.name, ch)
			// The browser's reconnect is refused too.
			if res, _, closeFn := e.tryStream(c, tc.stream, ""); res.StatusCode == http.StatusOK {
				closeFn()
				t.Errorf("after %s a new stream opened", tc.name)
			}
		})
	}

	// The admin's stream was not touched and still delivers.
	noErr(t, e.sb.Complete(id, true))
	waitEvent(t, bystander, "status", "Approved")
}

// TestLiveStreamLifetime: a stream ends after its lifetime; the reconnect is checked again,
// so it opens while signed in and is refused once signed out.
func TestLiveStreamLifetime(t *testing.T) {
	e, _ := newLiveEnv(t, live.Limits{Lifetime: 300 * time.Millisecond})
	e.addUser("viewer@example.com", db.RoleViewer, pw)
	c := e.signIn("viewer@example.com", pw)
	ch, stop := e.openSSE(c, "/events/inquiries")
	defer stop()
	waitEnded(t, "lifetime 300 ms", ch)

	res, _, closeFn := e.tryStream(c, "/events/inquiries", fmt.Sprint(time.Now().UnixMilli()))
	closeFn()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("reconnect while signed in: %d", res.StatusCode)
	}
	if res, _ := e.do(c, "POST", "/logout", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", res.StatusCode)
	}
	if res, _, closeFn := e.tryStream(c, "/events/inquiries", fmt.Sprint(time.Now().UnixMilli())); res.StatusCode == http.StatusOK {
		closeFn()
		t.Fatal("reconnect after sign-out opened a stream")
	}
}

// TestLiveStreamCaps: past the per-session and the total cap a stream gets 429 in words with
// Retry-After; a closed stream frees its slot; the list page answers meanwhile.
func TestLiveStreamCaps(t *testing.T) {
	e, _ := newLiveEnv(t, live.Limits{PerAccount: 3, Total: 5})
	ctx := context.Background()
	res, err := e.inq.Create(ctx, agentActor, createInput("caps", false))
	noErr(t, err)
	detail := "/events/inquiries/" + res.Inquiry.ID
	e.addUser("a@example.com", db.RoleViewer, pw)
	e.addUser("b@example.com", db.RoleViewer, pw)
	a, b := e.signIn("a@example.com", pw), e.signIn("b@example.com", pw)

	var aStreams []func()
	for i, path := range []string{"/events/inquiries", detail, "/events/inquiries?status=approved"} {
		res, _, closeFn := e.tryStream(a, path, "")
		defer closeFn()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("a's stream %d: %d", i+1, res.StatusCode)
		}
		aStreams = append(aStreams, closeFn)
	}
	res4, body, _ := e.tryStream(a, detail, "")
	if res4.StatusCode != http.StatusTooManyRequests || res4.Header.Get("Retry-After") == "" || !strings.Contains(body, "already has 3 live-update connections") {
		t.Fatalf("a's 4th stream: %d, Retry-After %q: %s", res4.StatusCode, res4.Header.Get("Retry-After"), body)
	}
	for i := range 2 {
		res, _, closeFn := e.tryStream(b, "/events/inquiries", "")
		defer closeFn()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("b's stream %d: %d", i+1, res.StatusCode)
		}
	}
	res6, body, _ := e.tryStream(b, "/events/inquiries", "")
	if res6.StatusCode != http.StatusTooManyRequests || res6.Header.Get("Retry-After") == "" || !strings.Contains(body, "as many live-update connections as it can") {
		t.Fatalf("a 6th stream in all: %d, Retry-After %q: %s", res6.StatusCode, res6.Header.Get("Retry-After"), body)
	}
	for _, c := range []*http.Client{a, b} {
		if res, body := e.do(c, "GET", "/inquiries", nil); res.StatusCode != http.StatusOK || !strings.Contains(body, "caps") {
			t.Fatalf("the list page while capped: %d", res.StatusCode)
		}
	}

	// One of a's streams closes: its slot frees up (the server notices the hang-up shortly).
	aStreams[0]()
	eventually(t, "b gets the freed slot", 5*time.Second, func() bool {
		res, _, closeFn := e.tryStream(b, "/events/inquiries", "")
		if res.StatusCode == http.StatusOK {
			t.Cleanup(closeFn)
			return true
		}
		return false
	})
}

// sseParse reads a raw stream as the HTML standard's event-stream parser does: lines end at
// CRLF, CR or LF; "name: value" fields; a blank line dispatches.
func sseParse(raw string) []sseEvent {
	raw = strings.ReplaceAll(raw, "\r\n", "\n")
	raw = strings.ReplaceAll(raw, "\r", "\n")
	var out []sseEvent
	var ev sseEvent
	var data []string
	for _, line := range strings.Split(raw, "\n") {
		if line == "" {
			if data != nil {
				ev.data = strings.Join(data, "\n")
				out = append(out, ev)
			}
			ev, data = sseEvent{}, nil
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			ev.name = value
		case "data":
			data = append(data, value)
		}
	}
	return out
}

func TestWriteEventRefusesUnsafeFields(t *testing.T) {
	for _, bad := range []struct{ id, event string }{
		{"1", "inq-x\nevent: new"},
		{"1", "inq-x\revent: new"},
		{"1", "inq-x\r\nevent: new"},
		{"1", "inq-x\x00"},
		{"1\ndata: x", "status"},
		{"1\r", "status"},
		{"1\x00", "status"},
	} {
		var b bytes.Buffer
		if err := writeEvent(&b, bad.id, bad.event, []byte("<p>hi</p>")); err == nil || b.Len() > 0 {
			t.Errorf("writeEvent(%q, %q): err %v, wrote %q", bad.id, bad.event, err, b.String())
		}
	}
	for _, tc := range []struct{ data, want string }{
		{"<p>one</p>", "<p>one</p>"},
		{"a\nb", "a\nb"},
		{"a\r\nb", "a\nb"},
		{"a\rb", "a\nb"},
		{"a\n\nb\r\r\nc\n", "a\n\nb\n\nc\n"},
		{"x\revent: new\rdata: <img src=x>", "x\nevent: new\ndata: <img src=x>"},
		{"", ""},
	} {
		var b bytes.Buffer
		noErr(t, writeEvent(&b, "42", "status", []byte(tc.data)))
		evs := sseParse(b.String())
		if len(evs) != 1 || evs[0].name != "status" || evs[0].data != tc.want {
			t.Errorf("data %q: wrote %q, read back %+v", tc.data, b.String(), evs)
		}
	}
}

// TestLiveStreamInjection: an inquiry id with line breaks (stored by whatever path) never
// writes its own fields into the stream, and neither does a name with a bare CR in the data.
func TestLiveStreamInjection(t *testing.T) {
	e, logs := newLiveEnv(t, live.Limits{})
	ctx := context.Background()
	e.addUser("viewer@example.com", db.RoleViewer, pw)
	c := e.signIn("viewer@example.com", pw)
	now := time.Now()
	bad := "inq_evil\nevent: new\ndata: <tr hx-get=/x>evil</tr>"
	crName := "inq_crname"
	for _, q := range []db.Inquiry{
		{ID: bad, ReferenceID: "evil", Status: "created", CreatedAt: now, UpdatedAt: now, VersionAt: now},
		{ID: crName, ReferenceID: "cr", Status: "created", Name: "Ada\revent: new\rdata: injected", CreatedAt: now, UpdatedAt: now, VersionAt: now},
	} {
		_, err := e.db.SaveInquiry(ctx, q, db.AuditEntry{})
		noErr(t, err)
	}
	res, err := e.inq.Create(ctx, agentActor, createInput("good", false))
	noErr(t, err)
	good := res.Inquiry.ID

	sres, _, closeFn := e.tryStream(c, "/events/inquiries", "")
	defer closeFn()
	if sres.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", sres.StatusCode)
	}
	raw := &testkit.Logs{}
	go io.Copy(raw, sres.Body)

	// All three rows are on the page; each changes and is published through the hub.
	e.srv.live.Publish(bad)
	e.srv.live.Publish(crName)
	e.srv.live.Publish(bad)
	noErr(t, e.sb.Complete(good, true))
	// One batch may hold all three, handled in any order: wait for everything it leads to.
	eventually(t, "the good rows' events and the dropped one's log line", 10*time.Second, func() bool {
		out := raw.String()
		return strings.Contains(out, "event: inq-"+good+"\n") && strings.Contains(out, "event: inq-"+crName+"\n") &&
			strings.Contains(logs.String(), "unsafe event dropped")
	})
	var names []string
	for _, ev := range sseParse(raw.String()) {
		names = append(names, ev.name)
		if ev.name != "inq-"+good && ev.name != "inq-"+crName && ev.name != "counts" { // counts follow every change
			t.Errorf("unexpected event %q in the stream: %q", ev.name, ev.data)
		}
	}
	if !strings.Contains(strings.Join(names, " "), "inq-"+crName) {
		t.Errorf("the row with a CR in its name was not sent at all: %v", names)
	}
	if n := strings.Count(logs.String(), "unsafe event dropped"); n != 1 {
		t.Errorf("the unsafe event was logged %d times, want once:\n%s", n, logs.String())
	}
}
