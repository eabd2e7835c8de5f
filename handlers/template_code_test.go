package handlers

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// templateCode is templ source printed as text instead of run: "@PersonLink(" in a page.
var templateCode = regexp.MustCompile(`@[A-Z][A-Za-z]+\(`)

// No page prints template code. Every GET page of the route table is rendered as the admin
// (its {id} an inquiry with a send log, its {ref} that person), with the pages only a POST
// reaches: the Approve/Decline/Expire confirmations and the New inquiry form's guard.
func TestNoTemplateCodeOnPages(t *testing.T) {
	e := newMailTestEnv(t, false)
	q := e.create("usr_pages")
	e.send(q, "pat@example.com")
	wildcard := regexp.MustCompile(`\{[^}]*\}`)
	pages := 0
	check := func(what string, res *http.Response, body string) {
		t.Helper()
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			return
		}
		pages++
		if m := templateCode.FindAllString(body, -1); m != nil {
			t.Errorf("%s (%d) prints template code: %q", what, res.StatusCode, m)
		}
	}
	for _, rt := range e.srv.Routes() {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		if method != "GET" || strings.HasPrefix(path, "/events/") || path == "/logout" {
			continue // streams never end; GET /logout is a form like any other but signs nothing out
		}
		path = strings.ReplaceAll(path, "{ref...}", "usr_pages")
		path = strings.TrimSuffix(wildcard.ReplaceAllString(path, q.ID), "{$}")
		res, body := e.do(e.admin, "GET", path, nil)
		check(rt.Pattern, res, body)
	}
	for _, action := range []string{"approve", "decline", "expire"} {
		res, body := e.do(e.admin, "POST", "/inquiries/"+q.ID+"/decision", url.Values{"action": {action}, "seen": {"created"}})
		if !strings.Contains(body, "usr_pages") {
			t.Errorf("%s confirmation: %d lacks the reference ID", action, res.StatusCode)
		}
		check(action+" confirmation", res, body)
	}
	_, form := e.do(e.admin, "GET", "/inquiries/new", nil)
	res, body := e.do(e.admin, "POST", "/inquiries", url.Values{"key": {keyRe.FindStringSubmatch(form)[1]}, "template_id": {q.TemplateID}, "reference_id": {"usr_pages"}})
	check("New inquiry guard", res, body)
	t.Logf("%d pages rendered and scanned", pages)
	if pages < 25 {
		t.Errorf("only %d pages rendered", pages)
	}
}
