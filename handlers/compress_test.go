package handlers

import (
	"bufio"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// TestPagesCompressed: pages, htmx fragments and the CSV export go out gzipped to a client
// that accepts it and plain to one that does not; a live stream to the same client is not
// compressed and each event still arrives while the stream stays open.
func TestPagesCompressed(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	e.addUser("viewer@example.com", db.RoleViewer, pw)
	c := e.signIn("viewer@example.com", pw)
	c.Transport = &http.Transport{DisableCompression: true} // see the wire as it is
	res0, err := e.inq.Create(context.Background(), agentActor, createInput("gzip-1", false))
	noErr(t, err)
	id := res0.Inquiry.ID

	get := func(path, accept string, hx bool) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", e.ts.URL+path, nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		if hx {
			req.Header.Set("HX-Request", "true")
		}
		res, err := c.Do(req)
		noErr(t, err)
		defer res.Body.Close()
		var body io.Reader = res.Body
		if res.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(res.Body)
			noErr(t, err)
			body = zr
		}
		b, err := io.ReadAll(body)
		noErr(t, err) // a gzip stream cut short fails here
		return res, string(b)
	}
	for _, c := range []struct {
		path, want string
		hx         bool
	}{
		{"/inquiries", "<h1", false},
		{"/inquiries?q=gzip", id, true},
		{"/inquiries/" + id, id, false},
		{"/inquiries/export", id, false},
	} {
		res, body := get(c.path, "gzip, deflate, br", c.hx)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(body, c.want) {
			t.Errorf("%s accepting gzip: %d, encoding %q, body has %q: %t", c.path, res.StatusCode, res.Header.Get("Content-Encoding"), c.want, strings.Contains(body, c.want))
		}
		if !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Accept-Encoding") {
			t.Errorf("%s: Vary %v lacks Accept-Encoding", c.path, res.Header.Values("Vary"))
		}
		for _, accept := range []string{"", "gzip;q=0, identity"} {
			res, body = get(c.path, accept, c.hx)
			if res.Header.Get("Content-Encoding") != "" || !strings.Contains(body, c.want) {
				t.Errorf("%s accepting %q: encoding %q", c.path, accept, res.Header.Get("Content-Encoding"))
			}
		}
		// Again, as the list's page cache serves it (gzipped once and kept).
		res, body = get(c.path, "gzip", c.hx)
		if res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(body, c.want) {
			t.Errorf("%s accepting gzip again: encoding %q, has %q: %t", c.path, res.Header.Get("Content-Encoding"), c.want, strings.Contains(body, c.want))
		}
	}

	// The list's stream, asked for with gzip accepted: plain, and an event arrives at once.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+"/events/inquiries", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := c.Do(req)
	noErr(t, err)
	defer res.Body.Close()
	if res.Header.Get("Content-Type") != "text/event-stream" || res.Header.Get("Content-Encoding") != "" {
		t.Fatalf("stream: %s, encoding %q", res.Header.Get("Content-Type"), res.Header.Get("Content-Encoding"))
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	noErr(t, e.sb.Complete(id, true))
	timeout := time.After(5 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended before the inquiry's event")
			}
			if l == "event: inq-"+id {
				return
			}
		case <-timeout:
			t.Fatal("no event for the completed inquiry within 5 s on a stream that accepts gzip")
		}
	}
}
