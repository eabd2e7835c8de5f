package handlers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// postCSV uploads a file with the bulk form's fields, as htmx does.
func (e *testEnv) postCSV(c *http.Client, path, name, content string, fields map[string]string) (*http.Response, string) {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	io.WriteString(fw, content)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", e.ts.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("HX-Request", "true")
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestBulkSendJourney(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, func(st *inquiry.Settings) { st.RateLimit = 6000; st.RequireReference = true })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.srv.bulk.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	e.addUser("ann@example.com", "agent", "pw-ann-123456")
	e.addUser("vic@example.com", "viewer", "pw-vic-123456")
	c := e.signIn("ann@example.com", "pw-ann-123456")
	file := "\uFEFFReference ID;First name;Last name;Email address\n" +
		"usr_1;Zoë;Ångström;zoe@example.com\n" +
		"usr_2;José;Núñez;jose@example.com\n" +
		"usr_1;Zoë;Again;zoe@example.com\n" +
		";No;Ref;noref@example.com\n"
	fields := map[string]string{"template_id": sandbox.TemplateKYC}
	if _, err := e.inq.Create(context.Background(), model.Actor{Name: "Ann"}, inquiry.CreateInput{TemplateID: sandbox.TemplateKYC, ReferenceID: "usr_outside"}); err != nil {
		t.Fatal(err)
	}

	res, body := e.postCSV(c, "/bulk/check", "cohort-2026-12.csv", file, fields)
	if res.StatusCode != 200 || !strings.Contains(body, "2 ready, 1 invalid, 1 duplicate in the file") || !strings.Contains(body, ">Start</button>") {
		t.Fatalf("check: %d %s", res.StatusCode, body)
	}
	if n := e.sb.Stats().InquiriesCreated; n != 1 {
		t.Fatalf("the check created %d inquiries", n-1)
	}
	// A file whose headers are all unknown goes to the mapping step; bad input is refused in words.
	res, body = e.postCSV(c, "/bulk/check", "x.csv", "foo,bar\n1,2\n", fields)
	if res.StatusCode != 200 || !strings.Contains(body, "Column “foo”") || !strings.Contains(body, "Column “bar”") {
		t.Fatalf("unknown headers only: %d %s", res.StatusCode, body)
	}
	res, body = e.postCSV(c, "/bulk/check", "x.csv", "email\n", fields)
	if res.StatusCode != 422 || !strings.Contains(body, "no rows of people") {
		t.Fatalf("bad file: %d %s", res.StatusCode, body)
	}
	// A viewer may not start one.
	if res, _ := e.postCSV(e.signIn("vic@example.com", "pw-vic-123456"), "/bulk/start", "x.csv", file, fields); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer start: %d", res.StatusCode)
	}

	res, body = e.postCSV(c, "/bulk/start", "cohort-2026-12.csv", file, e.checkedForm(c, "cohort-2026-12.csv", file, fields))
	loc := res.Header.Get("HX-Redirect")
	if !strings.HasPrefix(loc, "/bulk/") {
		t.Fatalf("start: %d %q %s", res.StatusCode, loc, body)
	}
	eventually(t, "job done", 20*time.Second, func() bool {
		_, body = e.request(c, "GET", loc+"/status", nil, true)
		return strings.Contains(body, "<strong>Done</strong>")
	})
	if !strings.Contains(body, "2 created, 1 skipped, 1 failed") || strings.Count(body, "<tr>") != 4+1 {
		t.Errorf("finished status: %s", body)
	}
	if n := e.sb.Stats().InquiriesCreated; n != 3 {
		t.Errorf("sandbox created %d, want 3 (one outside the batch)", n)
	}
	res, body = e.do(c, "GET", loc+"/results.csv", nil)
	if !strings.HasPrefix(body, "\uFEFF") {
		t.Errorf("results without a byte-order mark: %.40q", body)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if res.StatusCode != 200 || err != nil || len(recs) != 5 || recs[1][3] != "created" {
		t.Errorf("results: %d %v %q", res.StatusCode, err, recs)
	}
	// The batch filter lists the two created inquiries.
	id := strings.TrimPrefix(loc, "/bulk/")
	_, body = e.do(c, "GET", "/inquiries?batch="+id, nil)
	if !strings.Contains(body, "Batch: cohort-2026-12.csv") || !strings.Contains(body, "usr_1") || !strings.Contains(body, "usr_2") || strings.Contains(body, "usr_outside") {
		t.Errorf("batch filter: %s", body)
	}
}

var (
	problemLinkRe = regexp.MustCompile(`<a href="data:text/csv;charset=utf-8;base64,([^"]+)" download="([^"]*)">Download problem rows</a>`)
	mapSelectRe   = regexp.MustCompile(`(?s)<select id="[^"]*" name="(map:[^"]+)">(.*?)</select>`)
	selectedRe    = regexp.MustCompile(`<option value="([^"]*)" selected>`)
)

// The check's rows with problems download as CSV: the reason in words, a byte-order mark, and
// cells from the file kept from running as formulas.
func TestBulkProblemRowsDownload(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, func(st *inquiry.Settings) { st.RequireReference = true })
	e.addUser("ann@example.com", "agent", "pw-ann-123456")
	c := e.signIn("ann@example.com", "pw-ann-123456")
	file := "Reference ID,Email\n" +
		"usr_1,ok@example.com\n" +
		"=1+2,bad\n" +
		"usr_1,dup@example.com\n"
	res, body := e.postCSV(c, "/bulk/check", "cohort.csv", file, map[string]string{"template_id": sandbox.TemplateKYC})
	m := problemLinkRe.FindStringSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		t.Fatalf("check: %d, no problem rows link in %s", res.StatusCode, body)
	}
	if m[2] != "cohort-problems.csv" {
		t.Errorf("download name %q", m[2])
	}
	raw, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	text, ok := strings.CutPrefix(string(raw), "\uFEFF")
	if !ok {
		t.Errorf("no byte-order mark: %.40q", raw)
	}
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("problem rows: %v %q", err, recs)
	}
	if got := strings.Join(recs[0], ","); got != "line,reference_id,check,reason" {
		t.Errorf("header %q", got)
	}
	if r := recs[1]; r[0] != "3" || !strings.HasPrefix(r[1], "'=") || r[2] != "invalid" || !strings.Contains(r[3], "Email: Enter an email address") {
		t.Errorf("invalid row %q", r)
	}
	if r := recs[2]; r[0] != "4" || r[1] != "usr_1" || r[2] != "duplicate in the file" || !strings.Contains(r[3], "Same reference ID as line 2") {
		t.Errorf("duplicate row %q", r)
	}
	// A clean file has nothing to download.
	if _, body := e.postCSV(c, "/bulk/check", "ok.csv", "Reference ID\nusr_9\n", map[string]string{"template_id": sandbox.TemplateKYC}); strings.Contains(body, "Download problem rows") {
		t.Errorf("a clean file offers problem rows: %s", body)
	}
}

// formMapping reads the mapping step's choices from the page, as the browser would post them.
func formMapping(body string) map[string]string {
	out := map[string]string{}
	for _, m := range mapSelectRe.FindAllStringSubmatch(body, -1) {
		out[m[1]] = ""
		if sel := selectedRe.FindStringSubmatch(m[2]); sel != nil {
			out[m[1]] = sel[1]
		}
	}
	return out
}

// Headers the console does not know: the page asks which column is which; the mapping posted
// gives the right summary, and Start (which posts the same form) creates with it.
func TestBulkHeaderMappingThroughThePage(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, func(st *inquiry.Settings) { st.RateLimit = 6000; st.RequireReference = true })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.srv.bulk.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	e.addUser("ann@example.com", "agent", "pw-ann-123456")
	c := e.signIn("ann@example.com", "pw-ann-123456")
	file := "Kundennummer;First name;Courriel\n" +
		"usr_m1;Zoë;zoe@example.com\n" +
		"usr_m2;José;jose@example.com\n"
	fields := map[string]string{"template_id": sandbox.TemplateKYC}

	res, body := e.postCSV(c, "/bulk/check", "kunden.csv", file, fields)
	if res.StatusCode != 200 || !strings.Contains(body, "0 ready, 2 invalid") {
		t.Fatalf("first check: %d %s", res.StatusCode, body)
	}
	for _, h := range []string{"Kundennummer", "Courriel"} {
		if !strings.Contains(body, ">Column “"+h+"”</label>") {
			t.Errorf("no mapping asked for %s", h)
		}
	}
	if got := formMapping(body); len(got) != 2 || got["map:Kundennummer"] != "" || got["map:Courriel"] != "" {
		t.Errorf("mapping form %v", got)
	}

	fields["map:Kundennummer"], fields["map:Courriel"] = "reference_id", "email-address"
	res, body = e.postCSV(c, "/bulk/check", "kunden.csv", file, fields)
	if res.StatusCode != 200 || !strings.Contains(body, "<strong>2 ready</strong>") {
		t.Fatalf("check with the mapping: %d %s", res.StatusCode, body)
	}
	// The choices stay in the form, so Start creates with them.
	form := formMapping(body)
	if form["map:Kundennummer"] != "reference_id" || form["map:Courriel"] != "email-address" {
		t.Fatalf("the mapping left the form: %v", form)
	}
	start := map[string]string{"template_id": sandbox.TemplateKYC}
	maps.Copy(start, form)
	start["key"] = formKeyRe.FindStringSubmatch(body)[1]
	res, _ = e.postCSV(c, "/bulk/start", "kunden.csv", file, start)
	loc := res.Header.Get("HX-Redirect")
	if !strings.HasPrefix(loc, "/bulk/") {
		t.Fatalf("start: %d %q", res.StatusCode, loc)
	}
	eventually(t, "job done", 20*time.Second, func() bool {
		_, body = e.request(c, "GET", loc+"/status", nil, true)
		return strings.Contains(body, "<strong>Done</strong>")
	})
	if !strings.Contains(body, "2 created") || !strings.Contains(body, "usr_m1") {
		t.Errorf("finished: %s", body)
	}
}
