package handlers

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// The page offers a sample file, which checks clean; Start is off, with the reason, when no row
// would create or send anything (and the server refuses such a start); Cancel asks first.
func TestBulkControls(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, func(st *inquiry.Settings) { st.RequireReference = true })
	e.addUser("ann@example.com", "agent", "pw-ann-123456")
	c := e.signIn("ann@example.com", "pw-ann-123456")
	fields := map[string]string{"template_id": sandbox.TemplateKYC}

	_, page := e.do(c, "GET", "/bulk", nil)
	mustContain(t, "bulk page", page, `<a href="/bulk/sample.csv" download>Download a sample CSV file</a>`)
	res, sample := e.do(c, "GET", "/bulk/sample.csv", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("sample: %d %v", res.StatusCode, res.Header)
	}
	_, body := e.postCSV(c, "/bulk/check", "sample.csv", sample, fields)
	mustContain(t, "sample checked", body, "<strong>2 ready</strong>", ">Start</button>")
	mustNotContain(t, "sample checked", body, "disabled")
	started := map[string]string{"template_id": sandbox.TemplateKYC, "key": formKeyRe.FindStringSubmatch(body)[1]}

	bad := "reference_id,email\n,a@example.com\nusr_1,not-an-email\n"
	_, body = e.postCSV(c, "/bulk/check", "bad.csv", bad, fields)
	mustContain(t, "nothing ready", html.UnescapeString(body), "<strong>0 ready, 2 invalid</strong>",
		`<button type="submit" disabled aria-describedby="start-why">Start</button>`, "Start is off: no row is ready to create or send.")
	res, body = e.postCSV(c, "/bulk/start", "bad.csv", bad, fields)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Nothing was started: no row is ready") {
		t.Errorf("start with nothing ready: %d %s", res.StatusCode, body)
	}
	if jobs, _ := e.db.BulkJobs(context.Background(), 10); len(jobs) != 0 {
		t.Fatalf("a job of nothing was stored: %+v", jobs)
	}

	// The worker is not running, so the job waits: Cancel leads to a question, not the deed.
	res, _ = e.postCSV(c, "/bulk/start", "sample.csv", sample, started)
	loc := res.Header.Get("HX-Redirect")
	_, body = e.do(c, "GET", loc, nil)
	mustContain(t, "job page", body, `<a role="button" class="secondary" href="`+loc+`/cancel">Cancel</a>`)
	_, body = e.do(c, "GET", loc+"/cancel", nil)
	mustContain(t, "question", html.UnescapeString(body), "Cancel the bulk send sample.csv?", "0 of 2 rows are done", "Yes, cancel the bulk send", `href="`+loc+`">Keep it running</a>`)
	jobs, _ := e.db.BulkJobs(context.Background(), 10)
	if len(jobs) != 1 || jobs[0].State != db.BulkRunning {
		t.Fatalf("asking changed the job: %+v", jobs)
	}
	if res, _ := e.do(c, "POST", loc+"/cancel", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", res.StatusCode)
	}
	if jobs, _ = e.db.BulkJobs(context.Background(), 10); jobs[0].State != db.BulkCancelled {
		t.Errorf("after yes: %s", jobs[0].State)
	}
}
