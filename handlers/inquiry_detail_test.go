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
	"github.com/linkdesk/linkdesk/model"
)

// completeAndWait has the person finish the flow at the sandbox (passing, so it is approved)
// and waits until the webhook has brought the news into the cache.
func (e *mailTestEnv) completeAndWait(t *testing.T, q *db.Inquiry) {
	t.Helper()
	if err := e.sb.Complete(q.ID, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "webhook applies approved", 10*time.Second, func() bool {
		nq, err := e.db.GetInquiry(context.Background(), q.ID)
		return err == nil && nq.Status == model.Approved
	})
}

func mustNotContain(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			t.Errorf("%s: has %q, want it gone", what, u)
		}
	}
}

// The open detail page refetches its inquiry-dependent parts when the inquiry changes: once
// the person completed the flow elsewhere and Persona approved, the update has no link, no
// Email link and no Approve/Decline, says the inquiry changed, still names the person as staff
// typed them (the name on the ID, "Alexander J Sample" in the sandbox, is shown beside it), and
// swaps the history too.
func TestDetailLiveUpdateFollowsInquiry(t *testing.T) {
	e := newMailTestEnv(t, false)
	q := e.create("usr_follow")
	path := "/inquiries/" + q.ID + "/live?seen=created"

	res, body := e.hx(e.admin, "GET", path, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("live update before: %d %.300s", res.StatusCode, body)
	}
	mustContain(t, "before", body, "<title>Pat Doe · usr_follow · Linkdesk</title>", ">Hosted link<", ">Email link<", ">Approve<", ">Decline<", ">Expire<")

	e.completeAndWait(t, q)
	res, body = e.hx(e.admin, "GET", path, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("live update after: %d %.300s", res.StatusCode, body)
	}
	body = html.UnescapeString(body)
	mustContain(t, "after", body, "This inquiry changed: Approved.", `id="inquiry-history" hx-swap-oob="true"`,
		`id="decision-actions" hx-swap-oob="true"`, "<title>Pat Doe · usr_follow · Linkdesk</title>", "Alexander J Sample", "badge-approved")
	mustNotContain(t, "after", body, ">Hosted link<", ">Email link<", ">Approve<", ">Decline<", ">Expire<", "QR code")
	// A second refetch after the last change (its buttons already made for approved) keeps the
	// note: it compares with the status the page was opened with.
	_, body = e.hx(e.admin, "GET", "/inquiries/"+q.ID+"/live?seen=approved&loaded=created", nil)
	mustContain(t, "second update", html.UnescapeString(body), "This inquiry changed: Approved.", `name="loaded" value="created"`)

	// A page without decision buttons (a viewer's) gets no out-of-band target it lacks.
	_, body = e.hx(e.admin, "GET", "/inquiries/"+q.ID+"/live", nil)
	mustNotContain(t, "no seen", body, `id="decision-actions"`)

	// Opened as a page, the address leads to the inquiry.
	res, _ = e.do(e.admin, "GET", path, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/inquiries/"+q.ID {
		t.Errorf("live update as a page: %d to %q, want 303 to the inquiry", res.StatusCode, res.Header.Get("Location"))
	}
}

// An Email form being filled in survives an update while a link can still be sent.
func TestDetailLiveUpdateKeepsEmailForm(t *testing.T) {
	e := newMailTestEnv(t, false)
	q := e.create("usr_keepform")
	if err := e.sb.Start(q.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "webhook applies pending", 10*time.Second, func() bool {
		nq, err := e.db.GetInquiry(context.Background(), q.ID)
		return err == nil && nq.Status == model.Pending
	})
	_, body := e.hx(e.admin, "GET", "/inquiries/"+q.ID+"/live?"+url.Values{"recipient": {"typed@example.com"}}.Encode(), nil)
	mustContain(t, "form kept", body, `value="typed@example.com"`, ">Send<")
}

// An action the page offered before the inquiry changed is refused in words, before anything
// reaches Persona.
func TestStaleActionsRefusedBeforePersona(t *testing.T) {
	e := newMailTestEnv(t, false)
	q := e.create("usr_stale")
	e.completeAndWait(t, q)
	before := e.sb.Stats().Calls
	for _, tc := range []struct {
		name, path string
		form       url.Values
		want       string
	}{
		{"approve", "/decision", url.Values{"action": {"approve"}, "seen": {"created"}, "confirmed": {"yes"}},
			"This inquiry changed from created to approved while the page was open. It is approved, so it can no longer be approved. Nothing was sent to Persona."},
		{"approve unconfirmed", "/decision", url.Values{"action": {"approve"}, "seen": {"created"}},
			"It is approved, so it can no longer be approved."},
		{"decline", "/decision", url.Values{"action": {"decline"}, "seen": {"created"}, "confirmed": {"yes"}},
			"it can no longer be declined. Nothing was sent to Persona."},
		{"expire", "/decision", url.Values{"action": {"expire"}, "seen": {"created"}, "confirmed": {"yes"}},
			"so there is nothing left to expire. Nothing was sent to Persona."},
		{"new link", "/links", url.Values{"seen": {"created"}},
			"It is approved: the person has nothing left to do, so no new link was issued."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := e.do(e.admin, "POST", "/inquiries/"+q.ID+tc.path, tc.form)
			if res.StatusCode != http.StatusConflict {
				t.Fatalf("status %d, want 409: %.300s", res.StatusCode, body)
			}
			mustContain(t, tc.name, html.UnescapeString(body), tc.want)
		})
	}
	after := e.sb.Stats().Calls
	for k, n := range after {
		if n != before[k] {
			t.Errorf("Persona was called: %s %d times, want none", k, n-before[k])
		}
	}
}

// A decision on a page whose status changed (still decidable) is not sent either: the
// reviewer decided looking at another state.
func TestDecisionOnChangedStatusRefused(t *testing.T) {
	e := newMailTestEnv(t, false)
	q := e.create("usr_changed")
	if err := e.sb.Start(q.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "webhook applies pending", 10*time.Second, func() bool {
		nq, err := e.db.GetInquiry(context.Background(), q.ID)
		return err == nil && nq.Status == model.Pending
	})
	res, body := e.do(e.admin, "POST", "/inquiries/"+q.ID+"/decision", url.Values{"action": {"approve"}, "seen": {"created"}, "confirmed": {"yes"}})
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("status %d, want 409: %.300s", res.StatusCode, body)
	}
	mustContain(t, "changed", html.UnescapeString(body), "This inquiry changed from created to pending while the page was open. Nothing was sent to Persona: look at it again and decide.")
	if st, _ := e.sb.Inquiry(q.ID); st != "pending" {
		t.Errorf("sandbox status %q, want pending", st)
	}
}

// The heading and the tab name the person; the inquiry id is beneath, copyable.
func TestDetailHeadingNamesPerson(t *testing.T) {
	e := newMailTestEnv(t, false)
	q := e.create("usr_named")
	body := html.UnescapeString(e.page("/inquiries/" + q.ID))
	mustContain(t, "detail", body, "<title>Pat Doe · usr_named · Linkdesk</title>", "<h1>Pat Doe · usr_named</h1>",
		`id="inquiry-id"`, `value="`+q.ID+`"`, ">Copy inquiry ID<")
}

// Verification cards are headed by their type and a status badge in words (not raw template
// text), check names and reasons are in words, and failed checks come first, marked.
func TestVerificationCardsInWords(t *testing.T) {
	e := newMailTestEnv(t, false)
	q := e.create("usr_cards")
	if err := e.sb.Complete(q.ID, false); err != nil {
		t.Fatal(err)
	}
	res, body := e.hx(e.admin, "GET", "/inquiries/"+q.ID+"/verifications", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("verifications: %d %.300s", res.StatusCode, body)
	}
	body = html.UnescapeString(body)
	mustNotContain(t, "cards", body, "@StatusBadge", "database_identity_comparison", "no_match")
	mustContain(t, "cards", body, "<h3>Database check <span class=\"badge badge-failed\">Failed</span></h3>",
		"Database identity comparison", "No match", "Database PO box detection", `class="check-attention"`,
		"1 check needs attention, listed first.")
	failed, passed := strings.Index(body, "Database identity comparison"), strings.Index(body, "Database deceased detection")
	if failed < 0 || passed < 0 || failed > passed {
		t.Errorf("failed check at %d, passed check at %d: want the failed one first", failed, passed)
	}
}

// The activity holds Persona's own changes (from its webhooks) among the staff's actions, by
// time, and says every action in words, here and on the Audit page.
func TestActivityInWordsWithPersonaChanges(t *testing.T) {
	e := newMailTestEnv(t, false)
	q := e.create("usr_activity")
	e.send(q, "pat@example.com")
	e.completeAndWait(t, q)
	eventually(t, "the completed event is stored", 10*time.Second, func() bool {
		evs, err := e.db.InquiryWebhookEvents(context.Background(), q.ID, 50)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, ev := range evs {
			names[ev.Name] = true
		}
		return names["inquiry.started"] && names["inquiry.completed"] && names["inquiry.approved"]
	})
	body := html.UnescapeString(e.page("/inquiries/" + q.ID))
	activity := body[strings.Index(body, `id="audit-h"`):]
	mustContain(t, "activity", activity, "admin created the inquiry", "admin emailed the link to pat@example.com",
		"The person started the verification", "The person completed the verification", "Persona approved the inquiry")
	mustNotContain(t, "activity", activity, ">email.queue<", ">inquiry.create<", ">link.issue<", "inquiry.started")
	started, completed := strings.Index(activity, "The person started"), strings.Index(activity, "The person completed")
	if completed > started {
		t.Errorf("completed at %d, started at %d: want the newest first", completed, started)
	}
	audit := html.UnescapeString(e.page("/audit"))
	mustContain(t, "audit page", audit, "admin emailed the link to pat@example.com", "admin signed in")
	mustNotContain(t, "audit page", audit, ">email.queue<", ">user.sign-in<")
}

// Hand-out wording fits the facts: no "New link" where it would hand out the same link, a
// one-time link replaces the last and warns that opening it uses it up, and an inquiry that
// expired before it was started does not say the person started.
func TestHandOutWording(t *testing.T) {
	e := newMailTestEnv(t, false)

	created := e.create("usr_same")
	body := html.UnescapeString(e.page("/inquiries/" + created.ID))
	mustContain(t, "created", body, "This link stays the same until the person starts, so hand out this one again.")
	mustNotContain(t, "created", body, ">New link<", "uses it up")

	started := e.create("usr_started")
	if err := e.sb.Start(started.ID); err != nil {
		t.Fatal(err)
	}
	res, b := e.do(e.admin, "POST", "/inquiries/"+started.ID+"/links", url.Values{"seen": {"pending"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("new link: %d %.300s", res.StatusCode, b)
	}
	body = html.UnescapeString(e.page("/inquiries/" + started.ID))
	mustContain(t, "pending", body, ">New link<", "New link makes a fresh one-time link; it replaces this one.",
		"A one-time link works once: opening it here uses it up")

	expired := e.create("usr_unstarted")
	res, b = e.do(e.admin, "POST", "/inquiries/"+expired.ID+"/decision", url.Values{"action": {"expire"}, "seen": {"created"}, "confirmed": {"yes"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("expire: %d %.300s", res.StatusCode, b)
	}
	body = html.UnescapeString(e.page("/inquiries/" + expired.ID))
	mustContain(t, "expired unstarted", body, "This inquiry expired before the person started.", ">New link<")
	mustNotContain(t, "expired unstarted", body, "The person has started", "where they stopped")
}
