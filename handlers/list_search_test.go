package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/internal/csvsafe"
)

// A NUL (or any control character) in the search answered 500 on the list, the counts and the
// export: it is dropped before the search is built.
func TestSearchControlCharactersNever500(t *testing.T) {
	e, c, _ := seeded(t, 200)
	for _, q := range []string{"\x00", "a\x00b", "ann\x01\x7f", "\x00\x00\x00ref"} {
		for _, path := range []string{"/inquiries", "/inquiries/counts", "/inquiries/export"} {
			res, body := e.do(c, "GET", path+"?q="+url.QueryEscape(q), nil)
			if res.StatusCode != http.StatusOK {
				t.Errorf("%s?q=%q: %d %.200s", path, q, res.StatusCode, body)
			}
		}
	}
}

// A search over 200 bytes was silently dropped, so the export exported everything: the list
// says it is too long and the export refuses in words.
func TestSearchTooLongSaysSo(t *testing.T) {
	e, c, _ := seeded(t, 200)
	long := url.QueryEscape(strings.Repeat("x", 201))
	res, body := e.do(c, "GET", "/inquiries?q="+long, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "The search is longer than 200 characters") {
		t.Errorf("list: %d, no word of the long search", res.StatusCode)
	}
	for _, q := range []string{"q=" + long, "from=yesterday"} {
		res, body = e.do(c, "GET", "/inquiries/export?"+q, nil)
		if res.StatusCode != http.StatusUnprocessableEntity || strings.HasPrefix(body, csvsafe.BOM) || !strings.Contains(body, "Nothing was exported") {
			t.Errorf("export ?%.20s: %d %.300s", q, res.StatusCode, body)
		}
	}
}
