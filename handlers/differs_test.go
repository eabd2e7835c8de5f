package handlers

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// The New inquiry form meets an open inquiry for the reference ID with other details typed:
// it does not offer to "use" that inquiry (whose link is prefilled for someone else) but says
// what differs and asks: its own address, a new inquiry, or nothing.
func TestNewInquiryDiffersFromOpenInquiry(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	e.addUser("agent@example.com", db.RoleAgent, pw)
	c := e.signIn("agent@example.com", pw)
	f := alexanderForm(inquiry.NewKey())
	f.Set("email-address", "alexander@example.com")
	res, _ := e.do(c, "POST", "/inquiries", f)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", res.StatusCode)
	}
	first := createdID(res)

	f = alexanderForm(inquiry.NewKey())
	f.Set("name-first", "Chloé")
	f.Set("email-address", "chloe@example.com")
	res, body := e.do(c, "POST", "/inquiries", f)
	body = html.UnescapeString(body)
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("guard: %d", res.StatusCode)
	}
	mustContain(t, "guard", body, "Differs from the open inquiry", `First name: "Alexander" on file, "Chloé" typed`,
		`Email: "alexander@example.com" on file, "chloe@example.com" typed`,
		`href="/inquiries/`+first+`/email">Send its link to the address on file (alexander@example.com)`,
		">Create a new inquiry</button>", "Send nothing", `value="Chloé"`)
	if strings.Contains(body, "Use existing inquiry") {
		t.Errorf("the guard still offers to use the other person's inquiry")
	}
	if n := e.sb.Stats().InquiriesCreated; n != 1 {
		t.Fatalf("%d inquiries, want 1", n)
	}
	// The same details as the open inquiry: nothing differs, so it is offered as before.
	f = alexanderForm(inquiry.NewKey())
	f.Set("email-address", "Alexander@Example.com")
	if _, body := e.do(c, "POST", "/inquiries", f); !strings.Contains(body, "Use existing inquiry") || strings.Contains(body, "Differs from") {
		t.Errorf("same person: %s", body)
	}
	// "Create a new inquiry" creates one for what was typed.
	f = alexanderForm(keyRe.FindStringSubmatch(body)[1])
	f.Set("name-first", "Chloé")
	f.Set("email-address", "chloe@example.com")
	f.Set("replace", "yes")
	res, _ = e.do(c, "POST", "/inquiries", f)
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || createdID(res) == first {
		t.Fatalf("create new: %d %q", res.StatusCode, loc)
	}
	q, err := e.inq.Get(context.Background(), createdID(res))
	if err != nil || q.Email != "chloe@example.com" {
		t.Fatalf("new inquiry: %v %+v", err, q)
	}
}

// Through the page: a differing row is listed with what differs and a choice per row (skip
// by default); Start sends to the address on file only where that was chosen.
func TestBulkDifferingRowThroughThePage(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, func(st *inquiry.Settings) { st.RateLimit = 6000; st.RequireReference = true })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.srv.bulk.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	e.addUser("ann@example.com", "agent", "pw-ann-123456")
	c := e.signIn("ann@example.com", "pw-ann-123456")
	for _, ref := range []string{"usr_jose", "usr_kim"} {
		if _, err := e.inq.Create(context.Background(), model.Actor{Name: "Ann"}, inquiry.CreateInput{TemplateID: sandbox.TemplateKYC, ReferenceID: ref,
			Fields: map[string]string{"name-first": "José", "email-address": ref + "@on.file"}}); err != nil {
			t.Fatal(err)
		}
	}
	file := "reference_id,first_name,email\nusr_jose,José,open@bulk.test\nusr_kim,José,kim@row.test\n"
	fields := map[string]string{"template_id": sandbox.TemplateKYC, "email": "1"}
	res, body := e.postCSV(c, "/bulk/check", "x.csv", file, fields)
	body = html.UnescapeString(body)
	if res.StatusCode != 200 {
		t.Fatalf("check: %d", res.StatusCode)
	}
	mustContain(t, "check", body, "0 ready, 2 differing from the open inquiry", "Differs from the open inquiry",
		`Email: "usr_jose@on.file" on file, "open@bulk.test" typed`, `<select name="choice:2" aria-label="What to do with line 2">`,
		`<option value="skip" selected>Skip this row</option>`, `<label for="choice-all">For all rows that differ</label>`, ">Start</button>")
	fields["choice:3"] = "on-file"
	fields["key"] = formKeyRe.FindStringSubmatch(body)[1]
	res, _ = e.postCSV(c, "/bulk/start", "x.csv", file, fields)
	loc := res.Header.Get("HX-Redirect")
	eventually(t, "job done", 20*time.Second, func() bool {
		_, body = e.request(c, "GET", loc+"/status", nil, true)
		return strings.Contains(body, "<strong>Done</strong>")
	})
	mustContain(t, "results", html.UnescapeString(body), "1 reused, 1 skipped", "Skipped: nothing was sent", "Email queued to usr_kim@on.file (the inquiry's own address)")
	emails, err := e.db.ListEmails(context.Background(), db.OutboxFilter{})
	if err != nil || len(emails) != 1 || emails[0].Recipient != "usr_kim@on.file" {
		t.Fatalf("emails %v %+v", err, emails)
	}
	// The send log says why the email went to that address.
	_, body = e.do(c, "GET", "/inquiries/"+emails[0].InquiryID, nil)
	mustContain(t, "send log", html.UnescapeString(body), "usr_kim@on.file <br><small class=\"muted\">the inquiry's own address</small>")
	// One the agent types on the Email form is theirs, and says so.
	_, form := e.do(c, "GET", "/inquiries/"+emails[0].InquiryID+"/email", nil)
	res, _ = e.do(c, "POST", "/inquiries/"+emails[0].InquiryID+"/email", url.Values{"recipient": {"kim.work@example.com"}, "key": {keyRe.FindStringSubmatch(form)[1]}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("send to a typed address: %d", res.StatusCode)
	}
	_, body = e.do(c, "GET", "/inquiries/"+emails[0].InquiryID, nil)
	mustContain(t, "send log", html.UnescapeString(body), "kim.work@example.com <br><small class=\"muted\">typed and confirmed by ")
}

// createdID is the inquiry a create redirected to.
func createdID(res *http.Response) string {
	id, _, _ := strings.Cut(strings.TrimPrefix(res.Header.Get("Location"), "/inquiries/"), "#")
	return id
}
