package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/inquiry"
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
	if _, err := e.inq.Create(context.Background(), inquiry.Actor{Name: "Ann"}, inquiry.CreateInput{TemplateID: sandbox.TemplateKYC, ReferenceID: "usr_outside"}); err != nil {
		t.Fatal(err)
	}

	res, body := e.postCSV(c, "/bulk/check", "cohort-2026-12.csv", file, fields)
	if res.StatusCode != 200 || !strings.Contains(body, "2 ready, 1 invalid, 1 duplicate in the file") || !strings.Contains(body, ">Start</button>") {
		t.Fatalf("check: %d %s", res.StatusCode, body)
	}
	if n := e.sb.Stats().InquiriesCreated; n != 1 {
		t.Fatalf("the check created %d inquiries", n-1)
	}
	// Bad input is refused in words.
	res, body = e.postCSV(c, "/bulk/check", "x.csv", "foo,bar\n1,2\n", fields)
	if res.StatusCode != 422 || !strings.Contains(body, "no column of the header row") {
		t.Fatalf("bad file: %d %s", res.StatusCode, body)
	}
	// A viewer may not start one.
	if res, _ := e.postCSV(e.signIn("vic@example.com", "pw-vic-123456"), "/bulk/start", "x.csv", file, fields); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer start: %d", res.StatusCode)
	}

	res, body = e.postCSV(c, "/bulk/start", "cohort-2026-12.csv", file, fields)
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
