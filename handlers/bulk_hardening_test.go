package handlers

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/inquiry"

	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// A header row of 200,000 unknown names (1.7 MB) once took 54 s of CPU in the check: it is
// refused in words, at once.
func TestBulkHugeHeaderRowRefused(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	e.addUser("ann@example.com", "agent", "pw-ann-123456")
	c := e.signIn("ann@example.com", "pw-ann-123456")
	var b strings.Builder
	b.WriteString("reference_id")
	for i := range 200000 {
		fmt.Fprintf(&b, ",c%d", i)
	}
	b.WriteString("\nusr_1\n")
	start := time.Now()
	res, body := e.postCSV(c, "/bulk/check", "wide.csv", b.String(), map[string]string{"template_id": sandbox.TemplateKYC})
	took := time.Since(start)
	t.Logf("200,000 columns: %d in %v", res.StatusCode, took)
	if res.StatusCode != 422 || !strings.Contains(body, "200001 columns") || !strings.Contains(body, "at most") {
		t.Fatalf("wide header: %d %.300s", res.StatusCode, body)
	}
	if took > 5*time.Second {
		t.Errorf("refusing took %v", took)
	}
}

var formKeyRe = regexp.MustCompile(`<input type="hidden" name="key" value="([^"]+)"`)

// checkedForm checks file through the page and returns the form Start posts: the choices and
// the key the check put in it.
func (e *testEnv) checkedForm(c *http.Client, name, file string, fields map[string]string) map[string]string {
	e.t.Helper()
	res, body := e.postCSV(c, "/bulk/check", name, file, fields)
	m := formKeyRe.FindStringSubmatch(body)
	if res.StatusCode != 200 {
		e.t.Fatalf("check: %d %.500s", res.StatusCode, body)
	}
	out := maps.Clone(fields)
	if m != nil {
		out["key"] = m[1]
	}
	return out
}

// Two Starts of one form at once (a double click, a retried request) make one job: 2 jobs and
// 10 emails to 5 people before.
func TestBulkDoubleStartMakesOneJob(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, func(st *inquiry.Settings) { st.RateLimit = 6000 })
	e.addUser("ann@example.com", "agent", "pw-ann-123456")
	c := e.signIn("ann@example.com", "pw-ann-123456")
	file := "reference_id,email\nusr_1,a@example.com\nusr_2,b@example.com\nusr_3,c@example.com\n"
	form := e.checkedForm(c, "five.csv", file, map[string]string{"template_id": sandbox.TemplateKYC, "email": "1"})
	locs := make([]string, 4)
	var wg sync.WaitGroup
	for i := range locs {
		wg.Go(func() {
			res, _ := e.postCSV(c, "/bulk/start", "five.csv", file, form)
			locs[i] = res.Header.Get("HX-Redirect")
		})
	}
	wg.Wait()
	var n int
	noErr(t, e.db.R.QueryRow("SELECT count(*) FROM bulk_jobs").Scan(&n))
	if n != 1 {
		t.Fatalf("4 Starts of one form made %d jobs", n)
	}
	for _, l := range locs {
		if l != locs[0] || !strings.HasPrefix(l, "/bulk/") {
			t.Errorf("Starts led to %q", locs)
		}
	}
	// Without the checked form's key, Start asks for the check first.
	delete(form, "key")
	res, body := e.postCSV(c, "/bulk/start", "five.csv", file, form)
	if res.StatusCode != 422 || !strings.Contains(body, "Check the file again") {
		t.Errorf("start without a key: %d %.300s", res.StatusCode, body)
	}
}

// runBulk runs the bulk worker until the test ends.
func runBulk(t *testing.T, e *sandboxEnv) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.srv.bulk.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// Cancel while a row is in flight: the worker still creates and emails it, so its result says
// so (it once said "cancelled — Not done"), and the audit log records it.
func TestBulkCancelReportsTheRowInFlight(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, func(st *inquiry.Settings) { st.RateLimit = 6000 })
	runBulk(t, e)
	e.addUser("ann@example.com", "agent", "pw-ann-123456")
	c := e.signIn("ann@example.com", "pw-ann-123456")
	file := "reference_id,email\nusr_1,a@example.com\nusr_2,b@example.com\nusr_3,c@example.com\n"
	form := e.checkedForm(c, "three.csv", file, map[string]string{"template_id": sandbox.TemplateKYC, "email": "1"})
	e.sb.SetKnobs(sandbox.Knobs{Latency: 700 * time.Millisecond})
	res, _ := e.postCSV(c, "/bulk/start", "three.csv", file, form)
	loc := res.Header.Get("HX-Redirect")
	eventually(t, "the first row taken", 10*time.Second, func() bool {
		var n int
		noErr(t, e.db.R.QueryRow("SELECT count(*) FROM bulk_rows WHERE line = 2 AND state = 'pending' AND next_attempt_at > ?", time.Now().UnixMilli()).Scan(&n))
		return n == 1
	})
	if res, _ := e.request(c, "POST", loc+"/cancel", url.Values{}, true); res.StatusCode != 200 {
		t.Fatalf("cancel: %d", res.StatusCode)
	}
	eventually(t, "the row in flight created", 10*time.Second, func() bool { return e.sb.Stats().InquiriesCreated == 1 })
	var recs [][]string
	eventually(t, "the row in flight recorded", 10*time.Second, func() bool {
		_, body := e.do(c, "GET", loc+"/results.csv", nil)
		recs = readCSV(t, body)
		return len(recs) == 4 && recs[1][3] != "pending"
	})
	if r := recs[1]; r[3] != "created" || !strings.Contains(r[4], "Email queued to a@example.com") || r[5] == "" {
		t.Errorf("row in flight: %q", r)
	}
	for _, r := range recs[2:] {
		if r[3] != "cancelled" {
			t.Errorf("row not taken: %q", r)
		}
	}
	var sent int
	noErr(t, e.db.R.QueryRow("SELECT count(*) FROM outbox").Scan(&sent))
	var audit string
	noErr(t, e.db.R.QueryRow("SELECT group_concat(action || ': ' || detail, ' | ') FROM audit_log WHERE action LIKE 'bulk.%'").Scan(&audit))
	if sent != 1 || !strings.Contains(audit, "bulk.cancel: 2 cancelled, 1 in flight") || !strings.Contains(audit, "then ended: 2 cancelled, 1 created") {
		t.Errorf("%d emails; audit: %s", sent, audit)
	}
}

// Any agent could pause, resume and cancel another agent's bulk send: only its creator and
// admins may, and others are told so in words.
func TestBulkJobChangedByCreatorOrAdminOnly(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil) // no worker: the job waits, running
	e.addUser("ann@example.com", "agent", "pw-ann-123456")
	e.addUser("bob@example.com", "agent", "pw-bob-123456")
	e.addUser("ada@example.com", "admin", "pw-ada-123456")
	e.addUser("rae@example.com", "reviewer", "pw-rae-123456")
	ann, bob, ada := e.signIn("ann@example.com", "pw-ann-123456"), e.signIn("bob@example.com", "pw-bob-123456"), e.signIn("ada@example.com", "pw-ada-123456")
	rae := e.signIn("rae@example.com", "pw-rae-123456")
	file := "reference_id\nusr_1\nusr_2\n"
	form := e.checkedForm(ann, "ann.csv", file, map[string]string{"template_id": sandbox.TemplateKYC})
	res, _ := e.postCSV(ann, "/bulk/start", "ann.csv", file, form)
	loc := res.Header.Get("HX-Redirect")
	state := func() string {
		var s string
		noErr(t, e.db.R.QueryRow("SELECT state FROM bulk_jobs").Scan(&s))
		return s
	}
	for _, action := range []string{"pause", "cancel"} {
		res, body := e.request(bob, "POST", loc+"/"+action, url.Values{}, false)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "Only ann, who started this bulk send, a reviewer or an admin") || state() != "running" {
			t.Errorf("bob %s: %d, job %s: %.300s", action, res.StatusCode, state(), body)
		}
	}
	if _, body := e.do(ann, "GET", loc, nil); !strings.Contains(body, ">Pause</button>") {
		t.Errorf("ann is not offered Pause")
	}
	if _, body := e.do(bob, "GET", loc, nil); strings.Contains(body, ">Pause</button>") || strings.Contains(body, ">Cancel</") {
		t.Errorf("bob is offered the job's buttons")
	}
	if res, _ := e.request(ann, "POST", loc+"/pause", url.Values{}, false); res.StatusCode != http.StatusSeeOther || state() != "paused" {
		t.Errorf("ann pause: %d, job %s", res.StatusCode, state())
	}
	if res, _ := e.request(ada, "POST", loc+"/resume", url.Values{}, false); res.StatusCode != http.StatusSeeOther || state() != "running" {
		t.Errorf("admin resume: %d, job %s", res.StatusCode, state())
	}
	if res, _ := e.request(rae, "POST", loc+"/pause", url.Values{}, false); res.StatusCode != http.StatusSeeOther || state() != "paused" {
		t.Errorf("reviewer pause: %d, job %s", res.StatusCode, state())
	}
}

// results.csv holds names, emails and links: no cache may keep it.
func TestBulkResultsNotStored(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	e.addUser("ann@example.com", "agent", "pw-ann-123456")
	ann := e.signIn("ann@example.com", "pw-ann-123456")
	file := "reference_id\nusr_1\n"
	res, _ := e.postCSV(ann, "/bulk/start", "a.csv", file, e.checkedForm(ann, "a.csv", file, map[string]string{"template_id": sandbox.TemplateKYC}))
	res, _ = e.do(ann, "GET", res.Header.Get("HX-Redirect")+"/results.csv", nil)
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("results.csv: %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
}
