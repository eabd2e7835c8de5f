package handlers

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var sseConnectRe = regexp.MustCompile(`sse-connect="([^"]+)"`)

// TestListStreamFollowsTheRowsShown: a list page's stream is told which rows the page shows
// (their ids in its URL), so on the second page a change to one of them is sent to it. The
// page asks for no counts separately: it shows them when they cost nothing, else its stream
// sends them first.
func TestListStreamFollowsTheRowsShown(t *testing.T) {
	e, c, _ := seeded(t, 120)
	_, page1 := e.do(c, "GET", "/inquiries", nil)
	older := olderRe.FindStringSubmatch(page1)
	if older == nil {
		t.Fatal("no older page")
	}
	_, page2 := e.do(c, "GET", html.UnescapeString(older[1]), nil)
	if strings.Contains(page2, `hx-trigger="load"`) || !strings.Contains(page2, `aria-label="Status counts"`) {
		t.Error("the page asks for its counts itself, or does not show them")
	}
	m := sseConnectRe.FindStringSubmatch(page2)
	ids := rowIDs(page2)
	if m == nil || len(ids) == 0 {
		t.Fatalf("page 2: stream %v, %d rows", m, len(ids))
	}
	stream := html.UnescapeString(m[1])
	if !strings.Contains(stream, "shown="+ids[0]+"%2C"+ids[1]) || !strings.Contains(stream, "counted=1") {
		t.Fatalf("the stream's URL does not name the rows shown: %s", stream)
	}
	ch, stop := e.openSSE(c, stream)
	defer stop()

	id := ids[len(ids)/2]
	if _, err := e.db.W.Exec(`UPDATE inquiries SET status = 'declined', synced_at = ? WHERE id = ?`, time.Now().UnixMilli(), id); err != nil {
		t.Fatal(err)
	}
	e.srv.live.Publish(id)
	waitEvent(t, ch, "inq-"+id, "Declined")

	// A broad search's page comes without its counts: its stream sends them first.
	_, broad := e.do(c, "GET", "/inquiries?q=a&from=2000-01-01", nil)
	m = sseConnectRe.FindStringSubmatch(broad)
	if m == nil || strings.Contains(m[1], "counted=1") || !strings.Contains(broad, "Counting…") {
		t.Fatalf("a search with a range: stream %v, shows counts %t", m, !strings.Contains(broad, "Counting…"))
	}
	ch3, stop3 := e.openSSE(c, html.UnescapeString(m[1]))
	defer stop3()
	waitEvent(t, ch3, "counts", `aria-label="Status counts"`)

	// A stream without the ids (a page from before they were sent) reads the page again.
	ch2, stop2 := e.openSSE(c, fmt.Sprintf("/events/inquiries?since=%d", time.Now().UnixMilli()))
	defer stop2()
	waitEvent(t, ch2, "counts", `aria-label="Status counts"`)
	first := rowIDs(page1)[0]
	if _, err := e.db.W.Exec(`UPDATE inquiries SET status = 'approved', synced_at = ? WHERE id = ?`, time.Now().UnixMilli(), first); err != nil {
		t.Fatal(err)
	}
	e.srv.live.Publish(first)
	waitEvent(t, ch2, "inq-"+first, "Approved")
	if res, _ := e.do(c, "GET", "/inquiries/counts", nil); res.StatusCode != http.StatusOK {
		t.Errorf("the counts route, for a stream that cannot open: %d", res.StatusCode)
	}
}
