package handlers

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
)

var personLinkRe = regexp.MustCompile(`<a href="(/people/[^"]*)"`)

// People whose reference ID is "..", "." or starts with a space could not be reached from
// their own links (307 to /, or 404 after trimming): each link, resolved as a browser resolves
// it, opens the person's page.
func TestPersonLinksForOddReferenceIDs(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("vic@example.com", db.RoleViewer, pw)
	c := e.signIn("vic@example.com", pw)
	base, _ := url.Parse(e.ts.URL + "/inquiries/x")
	for i, ref := range []string{"..", ".", " lead", "a/../b", "trail "} {
		id := "inq_odd" + strings.Repeat("0", 20) + string(rune('a'+i))
		insertRow(t, e, id, ref, "created", time.Now().Add(time.Hour), 0)
		_, page := e.do(c, "GET", "/inquiries/"+id, nil)
		m := personLinkRe.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("%q: no person link on the detail page", ref)
		}
		href, err := url.Parse(html.UnescapeString(m[1]))
		noErr(t, err)
		target := base.ResolveReference(href) // removes dot segments, as a browser does
		res, body := e.do(c, "GET", target.RequestURI(), nil)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, html.EscapeString(ref)) || !strings.Contains(body, id) {
			t.Errorf("%q: link %s → %s: %d", ref, m[1], target.RequestURI(), res.StatusCode)
		}
	}
}
