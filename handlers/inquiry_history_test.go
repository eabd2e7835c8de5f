package handlers

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// waitStatus waits until the webhooks have brought status into the cache.
func (e *mailTestEnv) waitStatus(t *testing.T, id string, status model.Status) *db.Inquiry {
	t.Helper()
	var q *db.Inquiry
	eventually(t, "cache has "+string(status), 10*time.Second, func() bool {
		nq, err := e.db.GetInquiry(context.Background(), id)
		q = nq
		return err == nil && nq.Status == status
	})
	return q
}

// newForm is the New inquiry form for ref, as staff type it.
func newForm(key, ref string) url.Values {
	return url.Values{"key": {key}, "template_id": {sandbox.TemplateKYC}, "reference_id": {ref},
		"name-first": {"Pat"}, "name-last": {"Doe"}, "birthdate": {"1980-02-03"}}
}

// A person declined before by a staff member, or who failed verification: the guard says so
// (when, by whom) before creating anything, keeps the typed values, and creates only after an
// explicit confirmation.
func TestGuardTellsPriorDeclineOrFailure(t *testing.T) {
	e := newMailTestEnv(t, false)
	ctx := context.Background()
	u, _ := e.db.UserByEmail(ctx, "admin@example.com")

	// Declined by the admin in Linkdesk, after manual review.
	res, err := e.inq.Create(ctx, model.Actor{ID: u.ID, Name: u.Name}, inquiry.CreateInput{TemplateID: sandbox.TemplateKYCManualReview, ReferenceID: "usr_declined",
		Fields: map[string]string{"name-first": "Pat", "name-last": "Doe"}})
	if err != nil {
		t.Fatal(err)
	}
	declined := res.Inquiry
	if err := e.sb.Complete(declined.ID, true); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, declined.ID, model.NeedsReview)
	r, body := e.do(e.admin, "POST", "/inquiries/"+declined.ID+"/decision", url.Values{"action": {"decline"}, "seen": {"needs_review"}, "confirmed": {"yes"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("decline: %d %.300s", r.StatusCode, body)
	}

	// Failed verification: Persona decided.
	failed := e.create("usr_failed")
	if err := e.sb.Complete(failed.ID, false); err != nil {
		t.Fatal(err)
	}
	fq := e.waitStatus(t, failed.ID, model.Failed)

	created := e.sb.Stats().InquiriesCreated
	for _, tc := range []struct{ ref, id, want string }{
		{"usr_declined", declined.ID, "usr_declined was declined on " + time.Now().UTC().Format("2 Jan 2006") + " by " + u.Name},
		{"usr_failed", failed.ID, "usr_failed failed verification on " + fq.FailedAt.UTC().Format("2 Jan 2006") + " (decided by Persona)"},
	} {
		key := inquiry.NewKey()
		r, body := e.do(e.admin, "POST", "/inquiries", newForm(key, tc.ref))
		body = html.UnescapeString(body)
		if r.StatusCode != http.StatusConflict {
			t.Fatalf("%s: status %d, want 409 (the guard): %.300s", tc.ref, r.StatusCode, body)
		}
		mustContain(t, tc.ref, body, tc.want, ">"+tc.id+"</a>)", "Create anyway", `name="confirm" value="yes" required`, "Yes, verify "+tc.ref+" again",
			`value="Pat"`, `value="1980-02-03"`)
		if n := e.sb.Stats().InquiriesCreated; n != created {
			t.Fatalf("%s: the guard created an inquiry (%d, want %d)", tc.ref, n, created)
		}
		// Without the tick nothing is created; with it, a new inquiry.
		if r, _ := e.do(e.admin, "POST", "/inquiries", newForm(key, tc.ref)); r.StatusCode != http.StatusConflict {
			t.Fatalf("%s: unconfirmed: %d, want 409", tc.ref, r.StatusCode)
		}
		f := newForm(key, tc.ref)
		f.Set("confirm", "yes")
		r, body = e.do(e.admin, "POST", "/inquiries", f)
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: confirmed: %d %.300s", tc.ref, r.StatusCode, body)
		}
		ended := map[string]string{"usr_declined": "was declined", "usr_failed": "failed verification"}[tc.ref]
		mustContain(t, tc.ref+" created", html.UnescapeString(e.page(r.Header.Get("Location"))),
			"Created although "+tc.ref+"'s inquiry "+tc.id+" "+ended+", as you confirmed.")
		created++
		if n := e.sb.Stats().InquiriesCreated; n != created {
			t.Fatalf("%s: sandbox created %d, want %d", tc.ref, n, created)
		}
	}
}
