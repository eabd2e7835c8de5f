package handlers

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
)

// TestRetentionSetting: Settings → Data retention refuses a wrong number in words, keeping
// what was typed, and saves a right one.
func TestRetentionSetting(t *testing.T) {
	e := newMailTestEnv(t, false)
	res, body := e.do(e.admin, "GET", "/settings", nil)
	if res.StatusCode != 200 || !strings.Contains(body, "Data retention") || !strings.Contains(body, "Remove personal data of finished inquiries after N days") {
		t.Fatalf("settings page: %d, no Data retention section", res.StatusCode)
	}
	res, body = e.do(e.admin, "POST", "/settings/retention", url.Values{"retention_days": {"ten"}, "retention_persona": {"yes"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Enter a whole number of days") || !strings.Contains(body, `value="ten"`) || !strings.Contains(body, `value="yes" checked`) {
		t.Fatalf("bad days: %d", res.StatusCode)
	}
	if res, _ = e.do(e.admin, "POST", "/settings/retention", url.Values{"retention_days": {"30"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", res.StatusCode)
	}
	if _, body = e.do(e.admin, "GET", "/settings", nil); !strings.Contains(body, "Data retention saved.") || !strings.Contains(body, `name="retention_days" type="number" value="30"`) {
		t.Errorf("after saving 30 days the page does not show it")
	}
	if d, _ := e.inq.RetentionDays(context.Background()); d != 30 {
		t.Errorf("days %d, want 30", d)
	}
}

// TestRemovePersonalDataByHand: an admin confirms, the inquiry's page then says when and by
// whom the data was removed and no longer shows the person's name or email.
func TestRemovePersonalDataByHand(t *testing.T) {
	e := newMailTestEnv(t, false)
	q := e.create("hand-1")
	_, body := e.do(e.admin, "GET", "/inquiries/"+q.ID, nil)
	if !strings.Contains(body, "Remove personal data…") || !strings.Contains(body, "pat@example.com") {
		t.Fatal("detail page: no way to remove personal data, or no email to remove")
	}
	res, body := e.do(e.admin, "GET", "/inquiries/"+q.ID+"/personal-data", nil)
	if res.StatusCode != 200 || !strings.Contains(body, "Remove personal data?") || !strings.Contains(body, "cannot be undone") {
		t.Fatalf("confirmation: %d", res.StatusCode)
	}
	if res, _ = e.do(e.admin, "POST", "/inquiries/"+q.ID+"/personal-data", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", res.StatusCode)
	}
	_, body = e.do(e.admin, "GET", "/inquiries/"+q.ID, nil)
	body = html.UnescapeString(body)
	if !strings.Contains(body, "Personal data removed.") || !strings.Contains(body, "Personal data removed on ") || !strings.Contains(body, " by admin") {
		t.Errorf("detail page after removal lacks the note")
	}
	if strings.Contains(body, "pat@example.com") || strings.Contains(body, "Pat Doe") {
		t.Error("detail page still shows the person")
	}
	audit, _ := e.db.ListAudit(context.Background(), db.AuditFilter{Target: q.ID, Action: "inquiry.personal_data_removed"})
	if len(audit) != 1 {
		t.Errorf("audit: %+v", audit)
	}
}
