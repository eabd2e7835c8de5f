package handlers

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
)

var resumeFormRe = regexp.MustCompile(`name="key" value="([0-9a-f]+)">\s*<input type="hidden" name="recipient" value="([^"]+)">\s*<input type="hidden" name="resume" value="yes">`)

// "Resume and email" on a started inquiry issues a one-time link and queues its email in one
// step; the form's key makes a double submit send one email, and the page says what happened.
func TestResumeAndEmailOneStep(t *testing.T) {
	e := newMailTestEnv(t, true)
	q := e.create("usr_resume")
	if strings.Contains(e.page("/inquiries/"+q.ID), "Resume and email") {
		t.Fatal("an unstarted inquiry offers Resume and email; its own link is the one to send")
	}
	if err := e.sb.Start(q.ID); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, q.ID, model.Pending)

	body := html.UnescapeString(e.page("/inquiries/" + q.ID))
	if n := strings.Count(body, ">Resume and email<"); n != 1 {
		t.Fatalf("%d Resume and email buttons, want 1", n)
	}
	for _, name := range []string{">Email link<", ">Copy link<", ">Refresh status<", ">Show verifications<", ">Approve<", ">Decline<", ">Expire<"} {
		if n := strings.Count(body, name); n > 1 {
			t.Errorf("%q appears %d times, want at most once", name, n)
		}
	}
	mustContain(t, "pending page", body, "Makes a one-time link that continues where the person stopped (it replaces the last) and emails it to pat@example.com, in one step.")
	m := resumeFormRe.FindStringSubmatch(body)
	if m == nil || m[2] != "pat@example.com" {
		t.Fatalf("no Resume and email form for pat@example.com in %.2000s", body)
	}
	form := url.Values{"key": {m[1]}, "recipient": {m[2]}, "resume": {"yes"}}
	calls := e.sb.Stats().Calls["POST /inquiries/{id}/generate-one-time-link"]
	for range 2 { // a double click
		res, body := e.do(e.admin, "POST", "/inquiries/"+q.ID+"/email", form)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/inquiries/"+q.ID {
			t.Fatalf("resume and email: %d %.300s", res.StatusCode, body)
		}
	}
	if err := e.catcher.Wait(waitFor(t), 1); err != nil {
		t.Fatal(err)
	}
	emails, err := e.db.ListEmails(context.Background(), db.OutboxFilter{InquiryID: q.ID, Limit: 10})
	if err != nil || len(emails) != 1 {
		t.Fatalf("%d emails queued, want 1", len(emails))
	}
	e.waitState(emails[0].ID, "sent")
	e.outboxSettled()
	if n := e.catcher.Count(); n != 1 {
		t.Fatalf("caught %d emails, want 1", n)
	}
	if n := e.sb.Stats().Calls["POST /inquiries/{id}/generate-one-time-link"] - calls; n != 1 {
		t.Errorf("%d one-time links asked for, want 1", n)
	}
	got := e.catcher.Messages()[0]
	links, err := e.db.Links(context.Background(), q.ID)
	if err != nil {
		t.Fatal(err)
	}
	var link db.Link
	for _, l := range links {
		if l.ID == emails[0].LinkID {
			link = l
		}
	}
	if link.Kind != "one-time" || got.To[0] != "pat@example.com" || !strings.Contains(got.Text, link.URL) {
		t.Errorf("email to %v with text %q, want the one-time link (got %+v)", got.To, got.Text, link)
	}
	body = html.UnescapeString(e.page("/inquiries/" + q.ID))
	mustContain(t, "after", body, "Resumed: a new one-time link was issued (it replaces the last) and emailed. Email to pat@example.com is in the outbox")
}

// On an expired inquiry "Resume and email" resumes it at Persona first, then emails the
// one-time link, still in one step.
func TestResumeAndEmailExpired(t *testing.T) {
	e := newMailTestEnv(t, true)
	q := e.create("usr_resume_expired")
	r, body := e.do(e.admin, "POST", "/inquiries/"+q.ID+"/decision", url.Values{"action": {"expire"}, "seen": {"created"}, "confirmed": {"yes"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("expire: %d %.300s", r.StatusCode, body)
	}
	e.waitStatus(t, q.ID, model.Expired)
	page := html.UnescapeString(e.page("/inquiries/" + q.ID))
	m := resumeFormRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("an expired inquiry offers no Resume and email")
	}
	// Never started: the words do not say the person has.
	mustContain(t, "expired page", page, "Resumes the inquiry at Persona, makes a one-time link that opens the flow and emails it to pat@example.com, in one step.")
	mustNotContain(t, "expired page", page, "where the person stopped")
	r, body = e.do(e.admin, "POST", "/inquiries/"+q.ID+"/email", url.Values{"key": {m[1]}, "recipient": {m[2]}, "resume": {"yes"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("resume and email: %d %.300s", r.StatusCode, body)
	}
	if err := e.catcher.Wait(waitFor(t), 1); err != nil {
		t.Fatal(err)
	}
	if n := e.sb.Stats().Calls["POST /inquiries/{id}/resume"]; n != 1 {
		t.Errorf("%d resume calls, want 1", n)
	}
	if st, _ := e.sb.Inquiry(q.ID); st == "expired" {
		t.Errorf("sandbox still has the inquiry expired")
	}
}
