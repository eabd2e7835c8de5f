package handlers

import (
	"fmt"
	"maps"
	"net/http"
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
