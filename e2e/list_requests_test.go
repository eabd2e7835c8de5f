package e2e

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/playwright-community/playwright-go"
)

// TestOneKeystrokeOneRequestPair: a search typed into the list costs one request for the
// results and one for their live stream, which brings the counts (no third request for them);
// leaving the search box asks for nothing again; a filter clicked next costs its own pair.
func TestOneKeystrokeOneRequestPair(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)
	newPerson(t, p, "usr_PAIR1", "John", "Smith", "john@smith.example")
	newPerson(t, p, "usr_PAIR2", "Ana", "Lopez", "ana@lopez.example")
	click(t, p, lnk, "Inquiries")
	rows := p.Locator("#list-rows tr")
	counts := p.GetByRole("navigation", playwright.PageGetByRoleOptions{Name: "Status counts"})
	must(t, "counts from the stream", expect.Locator(counts).ToContainText("Created 2"))
	openFilters(t, p)

	var mu sync.Mutex
	var asked []string
	p.OnRequest(func(r playwright.Request) {
		u, err := url.Parse(r.URL())
		if err != nil || !strings.HasPrefix(u.Path, "/inquiries") && !strings.HasPrefix(u.Path, "/events/") {
			return
		}
		q := u.Query()
		mu.Lock()
		asked = append(asked, u.Path+"?q="+q.Get("q")+"&status="+q.Get("status"))
		mu.Unlock()
	})
	search := p.GetByRole("searchbox", playwright.PageGetByRoleOptions{Name: "Search"})
	must(t, "type", search.PressSequentially("smith"))
	must(t, "searched", expect.Page(p).ToHaveURL(regexp.MustCompile(`q=smith`)))
	must(t, "one row", expect.Locator(rows).ToHaveCount(1))
	// The results swapped in ask for no counts: these come from their stream.
	must(t, "its counts", expect.Locator(counts).ToContainText("Created 1"))
	must(t, "leave the search box", search.Press("Tab"))
	must(t, "tick Created", statusBox(p, "Created").Check())
	must(t, "filtered", expect.Page(p).ToHaveURL(regexp.MustCompile(`status=created`)))
	must(t, "one row still", expect.Locator(rows).ToHaveCount(1))
	must(t, "counts of the filter, from its stream", expect.Locator(counts).ToContainText("Created 1"))
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"/inquiries?q=smith&status=", "/events/inquiries?q=smith&status=",
		"/inquiries?q=smith&status=created", "/events/inquiries?q=smith&status=created",
	}
	if !slices.Equal(asked, want) {
		t.Errorf("requests:\n  %s\nwant:\n  %s", strings.Join(asked, "\n  "), strings.Join(want, "\n  "))
	}
}
