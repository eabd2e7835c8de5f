package handlers

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

var personRowRe = regexp.MustCompile(`<tr><th scope="row"><a href="/inquiries/(inq_[^"]+)">`)

// A person's page: every inquiry of the reference ID (two made here, one adopted from the
// sandbox's webhook), the links and emails across them, and a prefilled New inquiry link.
func TestPersonPage(t *testing.T) {
	e := newMailTestEnv(t, true)
	ctx := context.Background()
	first := e.create("usr_P1")
	e.waitState(e.send(first, "pat@example.com").ID, db.EmailSent)
	if res, body := e.do(e.admin, "POST", "/inquiries/"+first.ID+"/links", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("new link: %d %s", res.StatusCode, body)
	}
	if err := e.sb.Complete(first.ID, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "first approved", 10*time.Second, func() bool {
		q, _ := e.db.GetInquiry(ctx, first.ID)
		return q != nil && q.Status == "approved"
	})
	// Verified before: the second one goes through the guard's "Create anyway".
	u, _ := e.db.UserByEmail(ctx, "admin@example.com")
	res2, err := e.inq.Create(ctx, model.Actor{ID: u.ID, Name: u.Name}, inquiry.CreateInput{
		TemplateID: sandbox.TemplateKYCManualReview, ReferenceID: "usr_P1", Confirm: true,
		Fields: map[string]string{"name-first": "Pat", "name-last": "Doe", "email-address": "pat.doe@example.com", "birthdate": "1980-02-03"},
	})
	if err != nil || res2.Inquiry == nil {
		t.Fatalf("second create: %v %+v", err, res2)
	}
	second := res2.Inquiry
	// Someone else's inquiry for another person must not show.
	e.create("usr_OTHER")

	body := e.page("/people/usr_P1")
	rows := personRowRe.FindAllStringSubmatch(body, -1)
	if len(rows) != 2 || rows[0][1] != second.ID || rows[1][1] != first.ID {
		t.Fatalf("inquiry rows %v, want %s then %s", rows, second.ID, first.ID)
	}
	mustContain(t, "person page", body,
		"<h1>usr_P1 · Pat Doe</h1>",
		"KYC with manual review", stateCell("Sent"), "pat@example.com",
		`aria-label="Links issued for usr_P1"`, "Inquiry link", "no link needed", "admin")
	links, _ := e.db.Links(ctx, first.ID)
	if len(links) == 0 {
		t.Fatal("no link recorded for the first inquiry")
	}
	for _, l := range links {
		mustContain(t, "links issued", body, "<code>"+html.EscapeString(l.URL)+"</code>")
	}
	if strings.Contains(body, "usr_OTHER") {
		t.Error("another person's inquiry is listed")
	}
	m := regexp.MustCompile(`<a href="([^"]+)" role="button" class="outline">New inquiry for this person</a>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no New inquiry for this person link")
	}
	nu, _ := url.Parse(html.UnescapeString(m[1]))
	want := url.Values{"reference_id": {"usr_P1"}, "template_id": {sandbox.TemplateKYCManualReview}, "name-first": {"Pat"},
		"name-last": {"Doe"}, "email-address": {"pat.doe@example.com"}, "birthdate": {"1980-02-03"}}
	if nu.Path != "/inquiries/new" || nu.Query().Encode() != want.Encode() {
		t.Fatalf("New inquiry link %s, want /inquiries/new?%s", nu, want.Encode())
	}
	// The prefilled form carries the values; submitting it meets the duplicate guard.
	form := e.page(nu.String())
	mustContain(t, "prefilled form", form, `value="usr_P1"`, `value="pat.doe@example.com"`, `value="1980-02-03"`)
	post := want
	post.Set("key", keyRe.FindStringSubmatch(form)[1])
	res, guard := e.do(e.admin, "POST", "/inquiries", post)
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("create from the person's page: %d, want the duplicate guard (409)", res.StatusCode)
	}

	// An inquiry made at Persona directly (its dashboard, another tool) arrives by webhook.
	pc := persona.New(persona.Config{BaseURL: e.sbURL + "/api/v1", APIKey: sandbox.DefaultAPIKey})
	adopted, err := pc.CreateInquiry(ctx, persona.CreateInquiryParams{TemplateID: sandbox.TemplateKYC, ReferenceID: "usr_P1"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "adopted from the webhook", 10*time.Second, func() bool {
		q, _ := e.db.GetInquiry(ctx, adopted.ID)
		return q != nil
	})
	body = e.page("/people/usr_P1")
	if rows := personRowRe.FindAllStringSubmatch(body, -1); len(rows) != 3 || rows[0][1] != adopted.ID {
		t.Fatalf("after the webhook: rows %v, want %s first", rows, adopted.ID)
	}
	mustContain(t, "adopted row", body, "outside Linkdesk")

	// Reference IDs lead here: from the list row, the detail page and the guard.
	_, list := e.do(e.admin, "GET", "/inquiries?q=usr_P1", nil)
	_, detail := e.do(e.admin, "GET", "/inquiries/"+first.ID, nil)
	// The flow read another name from the ID: the detail page shows both; search finds both.
	mustContain(t, "detail page", detail, "<dt>Name typed</dt><dd>Pat Doe</dd>", "<dt>Name on the ID</dt>")
	for _, q := range []string{"Pat", "Sample"} {
		if _, b := e.do(e.admin, "GET", "/inquiries?q="+q, nil); !strings.Contains(b, first.ID) {
			t.Errorf("search %q does not find the completed inquiry", q)
		}
	}
	for what, b := range map[string]string{"list": list, "detail page": detail, "duplicate guard": guard} {
		mustContain(t, what, b, `<a href="/people/usr_P1">usr_P1</a>`)
	}
}

// Viewers see the page but not the New inquiry link; unknown and empty reference IDs get a
// 404 in words; a reference ID with a slash or a space still has its page.
func TestPersonPageEdges(t *testing.T) {
	e := newMailTestEnv(t, false)
	e.create("team/a b")
	e.addUser("viewer@example.com", db.RoleViewer, pw)
	viewer := e.signIn("viewer@example.com", pw)

	res, body := e.do(viewer, "GET", "/people/"+url.PathEscape("team/a b"), nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "<h1>team/a b · Pat Doe</h1>") {
		t.Fatalf("escaped reference: %d", res.StatusCode)
	}
	if strings.Contains(body, "New inquiry for this person") {
		t.Error("a viewer is offered New inquiry for this person")
	}
	_, list := e.do(viewer, "GET", "/inquiries", nil)
	mustContain(t, "list", list, `<a href="/people/team%2Fa%20b">team/a b</a>`)

	for path, want := range map[string]string{
		"/people/usr_NOBODY": "No inquiry here has the reference ID usr_NOBODY",
		"/people/":           "No reference ID given",
		"/people/%20":        "No reference ID given",
	} {
		res, body := e.do(viewer, "GET", path, nil)
		if res.StatusCode != http.StatusNotFound || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, want 404 with %q", path, res.StatusCode, want)
		}
	}
}
