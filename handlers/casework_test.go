package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
)

// TestCaseworkNotesAndAssignment: one agent gives an inquiry to another, who sees it counted in
// the header and under "Assigned to me", and writes a note that the first reads (plain text,
// links clickable, markup shown as typed), finds through the search box, and may not change.
func TestCaseworkNotesAndAssignment(t *testing.T) {
	e := newTestEnv(t)
	ada := e.addUser("ada@example.com", db.RoleAgent, pw)
	bob := e.addUser("bob@example.com", db.RoleAgent, pw)
	e.addUser("cy@example.com", db.RoleViewer, pw)
	_ = ada
	adaC, bobC, cyC := e.signIn("ada@example.com", pw), e.signIn("bob@example.com", pw), e.signIn("cy@example.com", pw)
	insertRow(t, e, "inq_one", "usr_ONE", "pending", time.Now().Add(48*time.Hour), 0)
	insertRow(t, e, "inq_two", "usr_TWO", "pending", time.Now().Add(48*time.Hour), 0)

	_, page := e.do(bobC, "GET", "/inquiries", nil)
	mustContain(t, "Bob's list before", page, `My queue <span class="badge">0</span>`, ">Assigned to me 0</a>")

	res, body := e.do(adaC, "POST", "/inquiries/inq_one/assign", url.Values{"user_id": {strconv.FormatInt(bob, 10)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("assign: %d %s", res.StatusCode, body)
	}
	_, page = e.do(bobC, "GET", "/inquiries", nil)
	mustContain(t, "Bob's list", page, `My queue <span class="badge">1</span>`, ">Assigned to me 1</a>",
		`<td class="c-assignee" data-label="Assigned to">bob</td>`)
	_, page = e.do(bobC, "GET", fmt.Sprintf("/inquiries?assigned_to=%d", bob), nil)
	if !strings.Contains(page, "usr_ONE") || strings.Contains(page, "usr_TWO") || !strings.Contains(page, "Assigned to: bob") {
		t.Fatal("Assigned to me does not show exactly the assigned inquiry, or the filter's summary does not say so")
	}

	// A viewer may read but not write notes; an empty note is refused in words.
	if res, _ := e.do(cyC, "POST", "/inquiries/inq_one/notes", url.Values{"body": {"hello"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer's note: %d, want 403", res.StatusCode)
	}
	res, body = e.do(bobC, "POST", "/inquiries/inq_one/notes", url.Values{"body": {"   "}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Write the note first") {
		t.Fatalf("empty note: %d", res.StatusCode)
	}
	note := "Called Ana, kumquat agreed. See https://example.com/case?id=1. <b>bold</b>"
	if res, body := e.do(bobC, "POST", "/inquiries/inq_one/notes", url.Values{"body": {note}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("note: %d %s", res.StatusCode, body)
	}
	_, page = e.do(adaC, "GET", "/inquiries/inq_one", nil)
	mustContain(t, "Ada's detail page", page,
		`<a href="https://example.com/case?id=1" rel="noopener noreferrer nofollow" target="_blank">https://example.com/case?id=1</a>`,
		"&lt;b&gt;bold&lt;/b&gt;", "bob added a note", "ada assigned the inquiry to bob", `<label for="f-assignee">Assigned to</label>`,
		">Take this inquiry</button>")
	if strings.Contains(page, "<b>bold</b>") || strings.Contains(page, "Edit note #1") {
		t.Fatal("a note rendered as HTML, or Ada may edit Bob's note")
	}

	// The search box finds the inquiry by a word of the note (and by a word's start).
	for _, q := range []string{"kumquat", "ku"} {
		_, page = e.do(adaC, "GET", "/inquiries?q="+q, nil)
		if !strings.Contains(page, "usr_ONE") || strings.Contains(page, "usr_TWO") {
			t.Fatalf("search %q does not find the note's inquiry alone", q)
		}
	}

	// Only the author (or an admin) edits; the edit is audited and re-indexed.
	id := regexp.MustCompile(`/notes/(\d+)/edit`).FindStringSubmatch(func() string { _, b := e.do(bobC, "GET", "/inquiries/inq_one", nil); return b }())
	if id == nil {
		t.Fatal("Bob has no Edit note link")
	}
	if res, _ := e.do(adaC, "POST", "/notes/"+id[1]+"/edit", url.Values{"body": {"mine now"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("Ada edits Bob's note: %d, want 403", res.StatusCode)
	}
	if res, body := e.do(bobC, "POST", "/notes/"+id[1]+"/edit", url.Values{"body": {"Called Ana, persimmon instead"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", res.StatusCode, body)
	}
	_, page = e.do(adaC, "GET", "/inquiries?q=kumquat", nil)
	if strings.Contains(page, "usr_ONE") {
		t.Fatal("the edited note's old word still finds the inquiry")
	}
	_, page = e.do(adaC, "GET", "/inquiries?q=persimmon", nil)
	if !strings.Contains(page, "usr_ONE") {
		t.Fatal("the edited note's new word does not find the inquiry")
	}
	if res, _ := e.do(bobC, "POST", "/notes/"+id[1]+"/delete", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	_, page = e.do(adaC, "GET", "/inquiries?q=persimmon", nil)
	if strings.Contains(page, "usr_ONE") {
		t.Fatal("a deleted note still finds the inquiry")
	}
	entries, _ := e.db.ListAudit(context.Background(), db.AuditFilter{Target: "inq_one", Action: "note.", Limit: 10})
	if len(entries) != 3 {
		t.Fatalf("%d note audit entries, want add, edit, delete", len(entries))
	}

	// A link expiring within the triage window is marked in the list (an icon with words) and
	// warned about on the detail page, with "Send fresh link" beside the warning.
	insertRow(t, e, "inq_soon", "usr_SOON", "pending", time.Now().Add(90*time.Minute), 0)
	_, page = e.do(adaC, "GET", "/inquiries", nil)
	mustContain(t, "list", page, `<small class="expiring-soon"><span aria-hidden="true">⏳ </span>Expires soon</small>`)
	if strings.Count(page, "Expires soon</small>") != 1 {
		t.Fatal("rows not expiring soon are marked too")
	}
	_, page = e.do(adaC, "GET", "/inquiries/inq_soon", nil)
	mustContain(t, "detail", page, "The link expires soon: ", `<input type="hidden" name="recipient" value="usr_soon@example.com">`, ">Send fresh link</button>")
	_, page = e.do(cyC, "GET", "/inquiries/inq_soon", nil)
	if !strings.Contains(page, "The link expires soon") || strings.Contains(page, ">Send fresh link</button>") {
		t.Fatal("a viewer is not warned, or is offered Send fresh link")
	}

	// Take this inquiry.
	if res, _ := e.do(adaC, "POST", "/inquiries/inq_two/assign", url.Values{"user_id": {strconv.FormatInt(ada, 10)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("take: %d", res.StatusCode)
	}
	_, page = e.do(adaC, "GET", "/inquiries/inq_two", nil)
	mustContain(t, "taken inquiry", page, "(you)", `My queue <span class="badge">1</span>`)
	// A viewer cannot be given inquiries.
	cy, _ := e.db.UserByEmail(context.Background(), "cy@example.com")
	res, body = e.do(adaC, "POST", "/inquiries/inq_two/assign", url.Values{"user_id": {strconv.FormatInt(cy.ID, 10)}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "cannot work on inquiries") {
		t.Fatalf("assign to a viewer: %d", res.StatusCode)
	}
}

// TestRowsSendFreshLink: five rows selected, "Send fresh link" says first what it will do,
// then queues one email per sendable row; the confirmation sent twice queues nothing twice.
func TestRowsSendFreshLink(t *testing.T) {
	e := newMailTestEnv(t, true)
	var ids []string
	for i := range 3 {
		ids = append(ids, e.create(fmt.Sprintf("usr_FRESH%d", i)).ID)
	}
	insertRow(t, e.testEnv, "inq_done", "usr_DONE", "approved", time.Time{}, 0)
	insertRow(t, e.testEnv, "inq_nomail", "usr_NOMAIL", "created", time.Now().Add(time.Hour), 0)
	if _, err := e.db.W.Exec(`UPDATE inquiries SET email = '' WHERE id = 'inq_nomail'`); err != nil {
		t.Fatal(err)
	}
	sel := url.Values{"action": {"fresh-link"}, "id": append(ids, "inq_done", "inq_nomail")}
	res, page := e.do(e.admin, "POST", "/inquiries/rows", sel)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("summary: %d %s", res.StatusCode, page)
	}
	mustContain(t, "summary", page, "5 selected: 3 will get a fresh link, 2 cannot: 1 approved, 1 without email", ">Confirm and send</button>")
	if n, _ := e.db.CountEmailsByState(context.Background()); n[db.EmailQueued]+n[db.EmailSending]+n[db.EmailSent] != 0 {
		t.Fatalf("the summary queued emails: %v", n)
	}
	key := regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(page)
	confirm := url.Values{"action": {"fresh-link"}, "key": {key[1]}, "id": ids}
	for range 2 { // a double click
		res, body := e.do(e.admin, "POST", "/inquiries/rows/confirm", confirm)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "3 of 3 fresh links queued") {
			t.Fatalf("confirm: %d %s", res.StatusCode, body)
		}
	}
	if err := e.catcher.Wait(waitFor(t), 3); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		emails, _ := e.db.ListEmails(context.Background(), db.OutboxFilter{InquiryID: id})
		if len(emails) != 1 {
			t.Fatalf("%s has %d emails, want 1", id, len(emails))
		}
		e.waitState(emails[0].ID, db.EmailSent)
	}
	e.outboxSettled()
	if n := e.catcher.Count(); n != 3 {
		t.Fatalf("%d emails delivered, want 3", n)
	}
	// An agent may not expire from the list; an admin is asked first.
	_, page = e.do(e.admin, "POST", "/inquiries/rows", url.Values{"action": {"expire"}, "id": {ids[0], "inq_done"}})
	mustContain(t, "expire summary", page, "2 selected: 1 will be expired, 1 cannot: 1 approved", ">Confirm and expire</button>")
	e.addUser("agent@example.com", db.RoleAgent, pw)
	agent := e.signIn("agent@example.com", pw)
	if res, body := e.do(agent, "POST", "/inquiries/rows", url.Values{"action": {"expire"}, "id": {ids[0]}}); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Only reviewers and admins") {
		t.Fatalf("agent expires: %d", res.StatusCode)
	}
	// Add tag: the summary, then once per inquiry however often it is confirmed; the list
	// shows, filters and exports the tag.
	_, page = e.do(e.admin, "POST", "/inquiries/rows", url.Values{"action": {"tag"}, "tag": {"priority"}, "id": {ids[0], ids[1]}})
	mustContain(t, "tag summary", page, "2 selected: 2 will get the tag", ">Confirm and add tag</button>")
	key = regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(page)
	for range 2 {
		res, body := e.do(e.admin, "POST", "/inquiries/rows/confirm", url.Values{"action": {"tag"}, "tag": {"priority"}, "key": {key[1]}, "id": {ids[0], ids[1]}})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("confirm tag: %d %s", res.StatusCode, body)
		}
	}
	for _, id := range ids[:2] {
		if entries, _ := e.db.ListAudit(context.Background(), db.AuditFilter{Target: id, Action: "inquiry.tag"}); len(entries) != 1 {
			t.Fatalf("%s: %d tag audit entries, want 1", id, len(entries))
		}
	}
	_, page = e.do(e.admin, "GET", "/inquiries?tag=priority", nil)
	if !strings.Contains(page, `<span class="tag">priority</span>`) || strings.Count(page, "<tr id=\"row-") != 2 {
		t.Fatalf("the tag filter does not show the two tagged rows")
	}
	_, csvBody := e.do(e.admin, "GET", "/inquiries/export?tag=priority", nil)
	if strings.Count(csvBody, ",priority") != 2 {
		t.Fatalf("export by tag: %q", csvBody)
	}
	if res, body := e.do(e.admin, "POST", "/inquiries/rows", url.Values{"action": {"tag"}, "tag": {"<b>"}, "id": {ids[0]}}); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Tags may use letters") {
		t.Fatalf("bad tag: %d", res.StatusCode)
	}
	// Export selected downloads just those rows.
	res, body := e.do(e.admin, "POST", "/inquiries/rows", url.Values{"action": {"export"}, "id": {ids[0], "inq_done"}})
	if res.StatusCode != http.StatusOK || strings.Count(body, "\n") != 3 || !strings.Contains(body, "usr_DONE") {
		t.Fatalf("export selected: %d %q", res.StatusCode, body)
	}
}

// TestSavedViews: a view keeps the list's filters, search and sort under a name; a shared one
// shows for a colleague with its count, a private one only for its owner; a bad name is
// refused in words with the typed value kept.
func TestSavedViews(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("ada@example.com", db.RoleAgent, pw)
	e.addUser("cy@example.com", db.RoleViewer, pw)
	adaC, cyC := e.signIn("ada@example.com", pw), e.signIn("cy@example.com", pw)
	insertRow(t, e, "inq_p1", "usr_P1", "pending", time.Now().Add(48*time.Hour), 0)
	insertRow(t, e, "inq_p2", "usr_P2", "pending", time.Now().Add(48*time.Hour), 0)
	insertRow(t, e, "inq_c1", "usr_C1", "created", time.Now().Add(48*time.Hour), 0)

	save := func(c *http.Client, name, query string, shared bool) (*http.Response, string) {
		f := url.Values{"name": {name}, "query": {query}}
		if shared {
			f.Set("shared", "1")
		}
		return e.request(c, "POST", "/views", f, true)
	}
	res, body := save(adaC, "Team pending", "status=pending&sort=updated&bogus=1", true)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("save: %d %s", res.StatusCode, body)
	}
	mustContain(t, "saved answer", body, "View “Team pending” saved and shared with the team.",
		`<a href="/inquiries?sort=updated&amp;status=pending" title="Your saved view, shared with the team" aria-current="page">Team pending 2</a>`)
	if res, _ := save(adaC, "Mine only", "q=usr_C1", false); res.StatusCode != http.StatusOK {
		t.Fatalf("save private: %d", res.StatusCode)
	}
	res, body = save(adaC, "   ", "status=pending", false)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Name the view") {
		t.Fatalf("empty name: %d %s", res.StatusCode, body)
	}

	_, page := e.do(cyC, "GET", "/inquiries", nil)
	mustContain(t, "colleague's list", page, `title="Shared by ada">Team pending 2</a>`)
	if strings.Contains(page, "Mine only") || strings.Contains(page, `aria-label="Remove view Team pending"`) {
		t.Fatal("a colleague sees a private view, or may remove a shared one")
	}
	_, page = e.do(adaC, "GET", "/inquiries?status=pending&sort=updated", nil)
	mustContain(t, "owner's list on the view", page, `title="Your saved view, shared with the team" aria-current="page">Team pending 2</a>`,
		`title="Your saved view">Mine only 1</a>`)
	// The counts follow the inquiries: the quick filters fetch themselves again.
	insertRow(t, e, "inq_p3", "usr_P3", "pending", time.Now().Add(48*time.Hour), 0)
	e.srv.live.Publish("inq_p3")
	eventually(t, "the view's count follows", 5*time.Second, func() bool {
		_, b := e.request(cyC, "GET", "/inquiries/quick", nil, true)
		return strings.Contains(b, ">Team pending 3</a>")
	})
}

// TestAssignmentEmail: a staff member who chose it on "Your account" is emailed (through the
// outbox) when an inquiry is assigned to them; one who did not is not; the notice is not part
// of the inquiry's own email log. The choice is offered there only, and only to staff who may
// be given inquiries.
func TestAssignmentEmail(t *testing.T) {
	e := newMailTestEnv(t, true)
	q := e.create("usr_NOTICE")
	bo := e.addUser("bo@example.com", db.RoleAgent, pw)
	cy := e.addUser("cy@example.com", db.RoleAgent, pw)
	boC := e.signIn("bo@example.com", pw)
	_, page := e.do(boC, "GET", "/account", nil)
	mustContain(t, "Bo's account", page, "Email me when an inquiry is assigned to me", ">Save preferences</button>")
	if strings.Contains(page, `name="assign_email" type="checkbox" value="1" checked`) {
		t.Fatal("the email choice is on before Bo chose it")
	}
	if res, _ := e.do(boC, "POST", "/account/preferences", url.Values{"assign_email": {"1"}}); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account" {
		t.Fatalf("save choice: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, page = e.do(boC, "GET", "/account", nil)
	mustContain(t, "choice kept", page, `name="assign_email" type="checkbox" value="1" checked`,
		"Preferences saved: you will be emailed when an inquiry is assigned to you.")
	_, page = e.do(boC, "GET", fmt.Sprintf("/inquiries?assigned_to=%d", bo), nil)
	if strings.Contains(page, "Email me when") {
		t.Error("the email choice is still on the queue page")
	}
	e.addUser("vi@example.com", db.RoleViewer, pw)
	if _, page = e.do(e.signIn("vi@example.com", pw), "GET", "/account", nil); strings.Contains(page, "Email me when") {
		t.Error("a viewer, who is never assigned an inquiry, is offered the email choice")
	}

	for _, uid := range []int64{cy, bo} {
		if res, body := e.do(e.admin, "POST", "/inquiries/"+q.ID+"/assign", url.Values{"user_id": {strconv.FormatInt(uid, 10)}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("assign: %d %s", res.StatusCode, body)
		}
	}
	if err := e.catcher.Wait(waitFor(t), 1); err != nil {
		t.Fatal(err)
	}
	m := e.catcher.Messages()[0]
	if len(m.To) != 1 || m.To[0] != "bo@example.com" || m.Subject != "Assigned to you: usr_NOTICE" || !strings.Contains(m.Text, "/inquiries/"+q.ID) {
		t.Fatalf("notice: %+v", m)
	}
	emails, _ := e.db.ListEmails(context.Background(), db.OutboxFilter{})
	for _, em := range emails {
		e.waitState(em.ID, db.EmailSent)
	}
	e.outboxSettled()
	if n := e.catcher.Count(); n != 1 {
		t.Fatalf("%d emails, want only Bo's notice", n)
	}
	if own, _ := e.db.ListEmails(context.Background(), db.OutboxFilter{InquiryID: q.ID}); len(own) != 0 {
		t.Fatalf("the notice shows in the inquiry's email log: %d", len(own))
	}
}
