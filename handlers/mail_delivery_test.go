package handlers

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/mail"
)

func TestEmailLinkDelivered(t *testing.T) {
	e := newMailTestEnv(t, true)
	q := e.create("cust-1")
	link := e.sbURL + "/verify?inquiry-id=" + q.ID

	detail := e.page("/inquiries/" + q.ID)
	mustContain(t, "detail page", detail, `<button type="submit">Email link</button>`, "No emails yet.")

	form := e.page("/inquiries/" + q.ID + "/email")
	mustContain(t, "form", form, `<label for="f-recipient">Recipient</label>`, `value="pat@example.com"`,
		"Acme: please verify your identity", html.EscapeString(link), ">Send</button>", ">Copy message</button>",
		`href="mailto:pat@example.com?subject=Acme%3A%20please%20verify%20your%20identity&amp;body=Hi%20Pat%2C%0D%0A`,
		">Open in mail app</a>")
	// htmx asks for the Email section alone, and for the preview as the recipient changes.
	_, frag := e.hx(e.admin, "GET", "/inquiries/"+q.ID+"/email", nil)
	if strings.Contains(frag, "<html") || !strings.Contains(frag, `id="f-recipient"`) {
		t.Fatalf("htmx form is not a fragment")
	}
	_, prev := e.hx(e.admin, "GET", "/inquiries/"+q.ID+"/email/preview?recipient=bo%40example.com", nil)
	mustContain(t, "preview fragment", prev, `href="mailto:bo@example.com?subject=`)

	// A wrong address comes back with the typed value and no email.
	res, body := e.do(e.admin, "POST", "/inquiries/"+q.ID+"/email", url.Values{"recipient": {"pat at example"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad recipient: %d", res.StatusCode)
	}
	mustContain(t, "422 form", body, `value="pat at example"`, `aria-invalid="true"`, "Enter one email address, like name@example.com.")

	m := e.send(q, "pat@example.com")
	sent := e.waitState(m.ID, db.EmailSent)
	if err := e.catcher.Wait(waitFor(t), 1); err != nil {
		t.Fatal(err)
	}
	got := e.catcher.Messages()[0]
	got.Text = strings.ReplaceAll(got.Text, "\r\n", "\n")
	if got.To[0] != "pat@example.com" || got.MessageID != sent.MessageID {
		t.Fatalf("caught %v %s", got.To, got.MessageID)
	}
	for _, c := range []struct{ what, in, want string }{
		{"subject", got.Subject, "Acme: please verify your identity"},
		{"text greeting", got.Text, "Hi Pat,"},
		{"text link", got.Text, "Start here:\n" + link + "\n"},
		{"text expiry", got.Text, "The link expires in 2"}, // 23 or 24 hours, by the sandbox clock's rounding
		{"text signature", got.Text, "admin, Acme"},
		{"html greeting", got.HTML, "<p>Hi Pat,</p>"},
		{"html button", got.HTML, `<a href="` + link + `"`},
		{"html button label", got.HTML, ">Verify my identity</a>"},
	} {
		if !strings.Contains(c.in, c.want) {
			t.Errorf("%s: %q does not contain %q", c.what, c.in, c.want)
		}
	}
	// The link in the email opens the hosted flow.
	res, err := http.Get(link)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("follow the link: %v %v", res, err)
	}
	res.Body.Close()

	detail = e.page("/inquiries/" + q.ID)
	mustContain(t, "detail after sending", detail, stateCell("Sent"), "pat@example.com", "Accepted by the mail server", "admin emailed the link to pat@example.com")
	// Settled: the send log no longer asks for itself.
	if strings.Contains(detail, `hx-trigger="every 3s"`) {
		t.Errorf("send log still polls after delivery")
	}
}

func TestEmailTemporaryRefusalRetriedOnce(t *testing.T) {
	e := newMailTestEnv(t, true)
	q := e.create("cust-2")
	e.catcher.SetRefuseFor(2, mail.RefuseTemporary)
	m := e.send(q, "pat@example.com")
	sent := e.waitState(m.ID, db.EmailSent)
	if sent.Attempts != 3 {
		t.Errorf("attempts %d, want 3", sent.Attempts)
	}
	e.outboxSettled()
	if n := e.catcher.Count(); n != 1 {
		t.Fatalf("caught %d, want 1", n)
	}
	detail := e.page("/inquiries/" + q.ID)
	mustContain(t, "detail", detail, stateCell("Sent"), "<td>3</td>")
}

func TestEmailPermanentRefusalShown(t *testing.T) {
	e := newMailTestEnv(t, true)
	q := e.create("cust-3")
	e.catcher.SetRefuse(mail.RefusePermanent)
	m := e.send(q, "nobody@example.com")
	failed := e.waitState(m.ID, db.EmailFailed)
	if failed.Attempts != 1 {
		t.Errorf("attempts %d, want 1 (a permanent refusal is not retried)", failed.Attempts)
	}
	detail := e.page("/inquiries/" + q.ID)
	mustContain(t, "detail", detail, stateCell("Failed"),
		"The mail server refused the message permanently: 550 5.1.1 Mailbox unavailable", ">Retry</button>",
		// Each row's button keeps its name and is described by the row's recipient.
		`<td id="email-`+itoa(m.ID)+`-to">`, `aria-describedby="email-`+itoa(m.ID)+`-to">Retry</button>`)
	outbox := e.page("/outbox?state=failed")
	mustContain(t, "outbox", outbox, "nobody@example.com", "Failed (1)", `href="/inquiries/`+q.ID+`"`)

	// Fixed at the mail server's end: staff retry it.
	e.catcher.SetRefuse(mail.RefuseNone)
	res, body := e.do(e.admin, "POST", "/outbox/"+itoa(m.ID)+"/retry", url.Values{"back": {"/inquiries/" + q.ID}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/inquiries/"+q.ID {
		t.Fatalf("retry: %d %s", res.StatusCode, body)
	}
	e.waitState(m.ID, db.EmailSent)
	audit, _ := e.db.ListAudit(context.Background(), db.AuditFilter{Target: q.ID, Action: "email.retry"})
	if len(audit) != 1 || audit[0].Actor != "admin" {
		t.Fatalf("audit %+v", audit)
	}
}

func TestEmailWaitsWithoutSMTPAndCancel(t *testing.T) {
	e := newMailTestEnv(t, false)
	q := e.create("cust-4")
	mustContain(t, "detail", e.page("/inquiries/"+q.ID), "No mail server is configured")
	res, _ := e.do(e.admin, "POST", "/inquiries/"+q.ID+"/email", url.Values{"recipient": {"pat@example.com"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d", res.StatusCode)
	}
	detail := e.page("/inquiries/" + q.ID)
	mustContain(t, "detail", detail, "It waits there until a mail server is configured.", stateCell("Queued"), ">Cancel</button>")
	emails, _ := e.db.ListEmails(context.Background(), db.OutboxFilter{InquiryID: q.ID})
	res, _ = e.do(e.admin, "POST", "/outbox/"+itoa(emails[0].ID)+"/cancel", url.Values{"back": {"/inquiries/" + q.ID}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", res.StatusCode)
	}
	mustContain(t, "detail after cancel", e.page("/inquiries/"+q.ID), stateCell("Canceled"), "will not go out")
	// Canceling again says where it is instead of failing.
	e.do(e.admin, "POST", "/outbox/"+itoa(emails[0].ID)+"/cancel", url.Values{"back": {"/inquiries/" + q.ID}})
	mustContain(t, "detail after a second cancel", e.page("/inquiries/"+q.ID), "cannot be canceled: it is canceled now")

	// Viewers see the log but cannot send, retry or cancel.
	e.addUser("viewer@example.com", db.RoleViewer, pw)
	viewer := e.signIn("viewer@example.com", pw)
	_, body := e.do(viewer, "GET", "/inquiries/"+q.ID, nil)
	if strings.Contains(body, "Email link</button>") || strings.Contains(body, "/cancel") || !strings.Contains(body, stateCell("Canceled")) {
		t.Errorf("viewer's detail page offers actions or hides the log")
	}
}

func TestEmailFinishedInquiryRefused(t *testing.T) {
	e := newMailTestEnv(t, true)
	q := e.create("cust-5")
	if err := e.sb.Complete(q.ID, true); err != nil {
		t.Fatal(err)
	}
	res, body := e.do(e.admin, "POST", "/inquiries/"+q.ID+"/email", url.Values{"recipient": {"pat@example.com"}})
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("finished: %d", res.StatusCode)
	}
	mustContain(t, "refusal", body, "Nothing was sent: this inquiry is finished")
}

// A double click on Send, or the browser sending the POST again, queues one email.
func TestSendTwiceQueuesOnce(t *testing.T) {
	e := newMailTestEnv(t, true)
	q := e.create("usr_twice")
	c := e.admin
	form := url.Values{"recipient": {"pat@example.com"}, "key": {"form-key-1"}}
	for i := 0; i < 2; i++ {
		if res, body := e.do(c, "POST", "/inquiries/"+q.ID+"/email", form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("send %d: %d %s", i+1, res.StatusCode, body)
		}
	}
	es, err := e.db.ListEmails(t.Context(), db.OutboxFilter{InquiryID: q.ID})
	if err != nil || len(es) != 1 {
		t.Fatalf("outbox has %d emails for the inquiry (%v), want 1", len(es), err)
	}
}
