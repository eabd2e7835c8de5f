package handlers

import (
	"net/http"
	"regexp"
	"testing"
)

var iconRe = regexp.MustCompile(`<link rel="icon" href="(/static/[0-9a-f]{12}/favicon\.svg)"`)

// Pages name their icon by its fingerprinted URL, and /favicon.ico (asked for by browsers and
// tools that do not read the page) leads to the same icon instead of a 404.
func TestFavicon(t *testing.T) {
	e := newTestEnv(t)
	_, page := e.do(e.client(), "GET", "/login", nil)
	m := iconRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the sign-in page has no fingerprinted <link rel=icon>")
	}
	res, _ := e.do(e.client(), "GET", "/favicon.ico", nil)
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != m[1] {
		t.Fatalf("/favicon.ico: %d %q, want a redirect to %s", res.StatusCode, res.Header.Get("Location"), m[1])
	}
	res, body := e.do(e.client(), "GET", m[1], nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/svg+xml" || len(body) == 0 {
		t.Fatalf("icon: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
}
