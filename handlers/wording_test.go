package handlers

import (
	"context"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// An inquiry waiting for review reads as one ("is waiting for review", not "is needs review"),
// and each step Persona reports says what happened instead of "Persona moved the inquiry on"
// three times.
func TestDetailWording(t *testing.T) {
	e := newMailTestEnv(t, false)
	u, _ := e.db.UserByEmail(context.Background(), "admin@example.com")
	res, err := e.inq.Create(context.Background(), model.Actor{ID: u.ID, Name: u.Name}, inquiry.CreateInput{
		TemplateID: sandbox.TemplateKYCManualReview, ReferenceID: "usr_review", Fields: map[string]string{"name-first": "Chloé", "name-last": "Dubois"}})
	if err != nil {
		t.Fatal(err)
	}
	q := res.Inquiry
	if err := e.sb.Complete(q.ID, true); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, q.ID, model.NeedsReview)
	eventually(t, "the steps' events", 10*time.Second, func() bool {
		evs, _ := e.db.InquiryWebhookEvents(context.Background(), q.ID, 50)
		n := 0
		for _, ev := range evs {
			if ev.Name == "inquiry.transitioned" {
				n++
			}
		}
		return n == 3
	})
	_, body := e.do(e.admin, "GET", "/inquiries/"+q.ID, nil)
	body = html.UnescapeString(body)
	mustContain(t, "detail", body, "This inquiry is waiting for review: the person has nothing left to do",
		"The person finished the details check and moved on to the government ID step",
		"The person finished the government ID step and moved on to the selfie step",
		"The person passed the selfie step, the last step")
	mustNotContain(t, "detail", body, "is needs review", "Persona moved the inquiry on")
	_, body = e.do(e.admin, "POST", "/inquiries/"+q.ID+"/decision", map[string][]string{"action": {"approve"}, "seen": {"needs_review"}})
	mustContain(t, "confirmation", html.UnescapeString(body), `Chloé Dubois (<a href="/people/usr_review">usr_review</a>) is waiting for review.`)
}

// The page before setup is no error: it shows no HTTP status.
func TestNotSetUpPageWording(t *testing.T) {
	e := newTestEnv(t)
	_, body := e.do(e.client(), "GET", "/login", nil)
	mustContain(t, "not set up", html.UnescapeString(body), "Linkdesk is not set up yet", "the setup link that “linkdesk serve” printed")
	if strings.Contains(body, "HTTP 200") {
		t.Errorf("the not-set-up page shows HTTP 200")
	}
}
