package handlers

import (
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// TestCreateAtPersonasTagLimit: since 2025-09-29 Persona refuses (422) a request that would
// create a tag once the organization has 1,000 active ones. The New inquiry form says so in
// words next to Tags, keeps what was typed, and a tag already in use still works.
func TestCreateAtPersonasTagLimit(t *testing.T) {
	e := newSandboxEnvWith(t, sandbox.Knobs{}, nil, wiring{sandbox: func(o *sandbox.Options) { o.ActiveTagLimit = 2 }})
	e.addUser("agent@example.com", db.RoleAgent, pw)
	c := e.signIn("agent@example.com", pw)
	create := func(n int, ref, tags string) (*http.Response, string) {
		form := alexanderForm(fmt.Sprintf("%032x", n))
		form.Set("reference_id", ref)
		form.Set("tags", tags)
		return e.do(c, "POST", "/inquiries", form)
	}
	if res, _ := create(1, "usr_t1", "vip, web"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("two tags: status %d", res.StatusCode)
	}
	res, body := create(2, "usr_t2", "partner")
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a third tag: status %d, want 422", res.StatusCode)
	}
	if !strings.Contains(html.UnescapeString(body), persona.TagLimitWords) {
		t.Errorf("the page does not say why in words (%q)", persona.TagLimitWords)
	}
	if !strings.Contains(body, `value="usr_t2"`) || !strings.Contains(body, `value="partner"`) {
		t.Errorf("typed values not kept")
	}
	if res, _ := create(3, "usr_t3", "vip"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("a tag in use: status %d, want it created", res.StatusCode)
	}
}
