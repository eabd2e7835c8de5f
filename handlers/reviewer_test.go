package handlers

import (
	"html"
	"net/http"
	"net/url"
	"testing"

	"github.com/linkdesk/linkdesk/db"
)

// A reviewer sees Approve and decides; an agent sees no decision buttons and is refused one
// posted by hand, with nothing sent to Persona. Neither reaches the admin's pages.
func TestReviewerDecidesAgentCannot(t *testing.T) {
	e := newMailTestEnv(t, false)
	e.addUser("agent@example.com", db.RoleAgent, pw)
	e.addUser("reviewer@example.com", db.RoleReviewer, pw)
	agent, reviewer := e.signIn("agent@example.com", pw), e.signIn("reviewer@example.com", pw)
	q := e.create("usr_review")
	decide := url.Values{"action": {"approve"}, "seen": {"created"}, "confirmed": {"yes"}}

	_, body := e.do(agent, "GET", "/inquiries/"+q.ID, nil)
	mustNotContain(t, "agent's page", body, ">Approve<", ">Decline<")
	if res, _ := e.do(agent, "POST", "/inquiries/"+q.ID+"/decision", decide); res.StatusCode != http.StatusForbidden {
		t.Fatalf("agent's decision: %d, want 403", res.StatusCode)
	}
	if st, _ := e.sb.Inquiry(q.ID); st != "created" {
		t.Fatalf("sandbox status after the agent's try: %q, want created", st)
	}

	_, body = e.do(reviewer, "GET", "/inquiries/"+q.ID, nil)
	mustContain(t, "reviewer's page", body, ">Approve<", ">Decline<", "New inquiry")
	mustNotContain(t, "reviewer's nav", body, `href="/staff"`, `href="/settings"`)
	if res, body := e.do(reviewer, "POST", "/inquiries/"+q.ID+"/decision", decide); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reviewer's decision: %d, want 303: %.300s", res.StatusCode, html.UnescapeString(body))
	}
	if st, _ := e.sb.Inquiry(q.ID); st != "approved" {
		t.Fatalf("sandbox status %q, want approved", st)
	}
	for _, path := range []string{"/staff", "/settings", "/templates", "/audit"} {
		if res, _ := e.do(reviewer, "GET", path, nil); res.StatusCode != http.StatusForbidden {
			t.Errorf("reviewer GET %s: %d, want 403", path, res.StatusCode)
		}
	}
}
