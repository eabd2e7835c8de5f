package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// onSite reports whether a browser on https://console.example that follows Location: loc (or
// htmx's HX-Redirect) stays on that host: one leading slash, no backslash (read as a slash), no
// control characters or spaces (dropped or trimmed), and no scheme or host once parsed.
func onSite(loc string) bool {
	if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.ContainsRune(loc, '\\') {
		return false
	}
	if strings.IndexFunc(loc, func(c rune) bool { return c <= ' ' || c == 0x7f }) >= 0 {
		return false
	}
	u, err := url.Parse(loc)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return false
	}
	base, _ := url.Parse("https://console.example/login")
	return base.ResolveReference(u).Host == "console.example"
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{
		"/inquiries", "/inquiries?status=pending#x", "/staff/", "/./\\evil.example", "/\\evil.example",
		"//evil.example", "/../..//evil.example", "/.//evil.example", "https://evil.example", "/\t/evil.example",
		"/%2F%2Fevil.example", "/%5Cevil.example", "javascript:alert(1)", "/a/../../\\x", "/?next=//evil", "",
		"\\/evil.example", "/a/./b/../c", " /x", "/\x00/evil",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !onSite(got) {
			t.Fatalf("safeNext(%q) = %q, which a browser may follow off-site", next, got)
		}
		// What actually goes out: http.Redirect cleans the path again.
		rec := httptest.NewRecorder()
		http.Redirect(rec, httptest.NewRequest("POST", "/login", nil), got, http.StatusSeeOther)
		if loc := rec.Header().Get("Location"); !onSite(loc) {
			t.Fatalf("safeNext(%q) = %q, sent as Location %q, which a browser may follow off-site", next, got, loc)
		}
	})
}
