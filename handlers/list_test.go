package handlers

import (
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/internal/csvsafe"
	"github.com/linkdesk/linkdesk/internal/seed"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

var agentActor = model.Actor{Name: "Test Agent"}

func createInput(ref string, review bool) inquiry.CreateInput {
	tmpl := sandbox.TemplateKYC
	if review {
		tmpl = sandbox.TemplateKYCManualReview
	}
	return inquiry.CreateInput{TemplateID: tmpl, ReferenceID: ref, Key: inquiry.NewKey(),
		Fields: map[string]string{"name-first": "Alexander", "name-last": "Sample", "email-address": strings.ToLower(ref) + "@example.com"}}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// hxGet asks as htmx does (for the results fragment).
func (e *testEnv) hxGet(c *http.Client, path string) (*http.Response, string) {
	e.t.Helper()
	return e.request(c, "GET", path, nil, true)
}

func readAll(res *http.Response) string {
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

var (
	rowRe   = regexp.MustCompile(`<tr id="row-([^"]+)"`)
	olderRe = regexp.MustCompile(`<a href="([^"]+)"[^>]*>Older →</a>`)
)

func rowIDs(page string) []string {
	var ids []string
	for _, m := range rowRe.FindAllStringSubmatch(page, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// seeded is the route table over a few thousand synthetic inquiries, with a viewer signed in.
func seeded(t *testing.T, n int) (*testEnv, *http.Client, time.Time) {
	e := newTestEnv(t)
	now := time.Now()
	noErr(t, seed.Inquiries(context.Background(), e.db.W, seed.Options{N: n, Now: now, Span: 60 * 24 * time.Hour, Users: 5, Seed: 3}))
	e.addUser("viewer@example.com", db.RoleViewer, pw)
	return e, e.signIn("viewer@example.com", pw), now
}

func countWhere(t *testing.T, e *testEnv, where string, args ...any) int {
	var n int
	noErr(t, e.db.R.QueryRow("SELECT count(*) FROM inquiries WHERE "+where, args...).Scan(&n))
	return n
}

func TestListPageAndPaging(t *testing.T) {
	e, c, _ := seeded(t, 3000)
	res, page := e.do(c, "GET", "/inquiries", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("list: %d", res.StatusCode)
	}
	mustContain(t, "list page", page, "<h1>Inquiries</h1>", `<legend>Status</legend>`, `<label for="f-template">Template</label>`,
		`<label for="f-q">Search</label>`, `<label for="f-from">Created from</label>`, `<label for="f-to">Created to</label>`,
		"Export CSV", `sse-connect="/events/inquiries?since=`, `<th scope="col">Link expiry</th>`, "Older →",
		// Seeded open inquiries and no webhook yet: the list warns.
		"No webhook from Persona has arrived yet")
	if n := len(rowIDs(page)); n != 50 {
		t.Fatalf("%d rows on the first page, want 50", n)
	}
	first := rowIDs(page)[0]
	if !strings.Contains(page, `<a href="/inquiries/`+first+`">`) {
		t.Error("the reference ID is not a link to the detail page")
	}

	// Walk a filtered list to its end through htmx fragments.
	tmpl := seed.Templates[1].ID
	q := url.Values{"status": {"approved", "declined"}, "template": {tmpl}, "q": {""}, "from": {""}}
	want := countWhere(t, e, "status IN ('approved', 'declined') AND template_id = ?", tmpl)
	path := "/inquiries?" + q.Encode()
	seen := map[string]bool{}
	for pages := 0; path != ""; pages++ {
		res, frag := e.hxGet(c, path)
		if res.StatusCode != http.StatusOK || strings.Contains(frag, "<html") {
			t.Fatalf("fragment %s: %d", path, res.StatusCode)
		}
		if pages == 0 {
			if push := res.Header.Get("HX-Push-Url"); push != "/inquiries?status=approved&status=declined&template="+tmpl {
				t.Errorf("pushed URL %q keeps the empty fields", push)
			}
		}
		for _, id := range rowIDs(frag) {
			if seen[id] {
				t.Fatalf("%s shown twice", id)
			}
			seen[id] = true
		}
		path = ""
		if m := olderRe.FindStringSubmatch(frag); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	if len(seen) != want {
		t.Fatalf("paging showed %d inquiries, the filter matches %d", len(seen), want)
	}

	// Search by reference prefix, any case.
	_, frag := e.hxGet(c, "/inquiries?q=cust-000012")
	if ids := rowIDs(frag); len(ids) != 10 { // CUST-0000120 to CUST-0000129
		t.Errorf("search found %d rows, want 10", len(ids))
	}
	// Counts for the current filter.
	_, counts := e.hxGet(c, "/inquiries/counts?template="+tmpl)
	total := countWhere(t, e, "template_id = ?", tmpl)
	mustContain(t, "counts", counts, fmt.Sprintf("<strong>%s</strong> matching", thousands(total)), "Approved")
	// Bad dates are said in words, and ignored.
	_, bad := e.do(c, "GET", "/inquiries?from=31-12-2025", nil)
	mustContain(t, "bad date", bad, "Enter a date like 2025-01-31.", `aria-invalid="true"`)
	// Nothing matches.
	_, none := e.hxGet(c, "/inquiries?q=zzzz")
	mustContain(t, "empty filter", none, "No inquiries match these filters")
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func TestListEmptyCache(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("agent@example.com", db.RoleAgent, pw)
	_, page := e.do(e.signIn("agent@example.com", pw), "GET", "/inquiries", nil)
	mustContain(t, "empty list", page, "No inquiries yet", "Create an inquiry for a person")
}

// readCSV parses an export, which starts with a UTF-8 byte-order mark for Excel.
func readCSV(t *testing.T, body string) [][]string {
	t.Helper()
	rest, ok := strings.CutPrefix(body, "\ufeff")
	if !ok {
		t.Fatalf("the export does not start with a UTF-8 byte-order mark (Excel would garble accents): %q", body[:min(len(body), 20)])
	}
	recs, err := csv.NewReader(strings.NewReader(rest)).ReadAll()
	noErr(t, err)
	return recs
}

func TestExportCSV(t *testing.T) {
	e, c, _ := seeded(t, 1500)
	res, body := e.do(c, "GET", "/inquiries/export?status=pending&status=expired&q=", nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	recs := readCSV(t, body)
	if strings.Join(recs[0], ",") != "inquiry_id,reference_id,status,name,email,template,template_id,created_at,updated_at,expires_at,last_email_state,created_by,synced_at,assigned_to,tags" {
		t.Fatalf("header row: %v", recs[0])
	}
	if want := countWhere(t, e, "status IN ('pending', 'expired')"); len(recs)-1 != want {
		t.Fatalf("%d rows exported, want %d", len(recs)-1, want)
	}
	q, err := e.db.GetInquiry(context.Background(), recs[1][0])
	noErr(t, err)
	if recs[1][1] != q.ReferenceID || recs[1][2] != string(q.Status) || recs[1][3] != q.Name || recs[1][4] != q.Email || recs[1][5] != "KYC" && recs[1][6] == seed.Templates[0].ID ||
		recs[1][7] != q.CreatedAt.UTC().Format(time.RFC3339) {
		t.Errorf("row %v does not match %+v", recs[1], q)
	}
	if csvsafe.Cell("=HYPERLINK(1)") != "'=HYPERLINK(1)" || csvsafe.Cell("Ada") != "Ada" {
		t.Error("formulas are not neutralised")
	}
}

// TestExportCSVNeutralisesFormulasInEveryColumn: whatever column a formula-like value sits in
// (ids and status come from Persona and webhooks, not only names typed by people), the exported
// cell starts with a ' so a spreadsheet shows it as text.
func TestExportCSVNeutralisesFormulasInEveryColumn(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("viewer@example.com", db.RoleViewer, pw)
	c := e.signIn("viewer@example.com", pw)
	creator, err := e.db.CreateUser(context.Background(), db.User{Email: "eve@example.com", Name: "=Eve", Role: db.RoleAgent, PasswordHash: "x"})
	noErr(t, err)
	now := time.Now().UnixMilli()
	row := map[string]string{
		"id": `=HYPERLINK("https://evil.example")`, "reference_id": "+1+1", "status": "@SUM(A1)",
		"name": "\tTab Name", "email": "-2@example.com", "template_id": "-itmpl_x",
	}
	_, err = e.db.W.Exec(`INSERT INTO inquiries (id, reference_id, status, name, email, template_id, created_at,
		updated_at, synced_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		row["id"], row["reference_id"], row["status"], row["name"], row["email"], row["template_id"], now, now, now, creator)
	noErr(t, err)

	res, body := e.do(c, "GET", "/inquiries/export", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export: %d\n%s", res.StatusCode, body)
	}
	recs := readCSV(t, body)
	if len(recs) != 2 {
		t.Fatalf("%d records, want the header and one row:\n%s", len(recs), body)
	}
	got := map[string]string{}
	for i, col := range recs[0] {
		got[col] = recs[1][i]
	}
	for _, col := range []string{"id", "reference_id", "status", "name", "email", "template_id"} {
		head := col
		if col == "id" {
			head = "inquiry_id"
		}
		if want := "'" + row[col]; got[head] != want {
			t.Errorf("%s cell %q, want %q", head, got[head], want)
		}
	}
	if got["created_by"] != "'=Eve" {
		t.Errorf("created_by cell %q, want %q", got["created_by"], "'=Eve")
	}
	for i, cell := range recs[1] {
		if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
			t.Errorf("%s cell %q starts a formula", recs[0][i], cell)
		}
	}
}

// TestRefreshRowAndReconcile: a webhook that never came is healed by "Refresh status" on the
// row and by the reconciler, and an unreachable Persona shows on the list with its time.
func TestRefreshRowAndReconcile(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{DropWebhooks: 1}, nil)
	ctx := context.Background()
	e.addUser("viewer@example.com", db.RoleViewer, pw)
	c := e.signIn("viewer@example.com", pw)
	var ids []string
	for i := range 3 {
		res, err := e.inq.Create(ctx, agentActor, createInput(fmt.Sprintf("heal-%d", i), false))
		noErr(t, err)
		ids = append(ids, res.Inquiry.ID)
		noErr(t, e.sb.Complete(res.Inquiry.ID, true))
	}
	if e.cachedStatus(ids[0]) != "created" {
		t.Fatal("a webhook got through")
	}
	req, _ := http.NewRequest("POST", e.ts.URL+"/inquiries/"+ids[0]+"/refresh-row", nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	noErr(t, err)
	row := readAll(res)
	res.Body.Close()
	mustContain(t, "refreshed row", row, `<a href="/inquiries/`+ids[0]+`">`, "Approved", "synced just now")
	if strings.Contains(row, "<html") {
		t.Error("the refresh answered a whole page")
	}

	// The reconciler heals the others: one list call for the recent ones.
	before := e.sb.Stats().Calls["GET /inquiries"]
	r, err := e.inq.Reconcile(ctx, false, nil)
	noErr(t, err)
	if e.cachedStatus(ids[1]) != "approved" || e.cachedStatus(ids[2]) != "approved" || r.Changed < 2 {
		t.Fatalf("after reconcile: %s %s, %+v", e.cachedStatus(ids[1]), e.cachedStatus(ids[2]), r)
	}
	if calls := e.sb.Stats().Calls["GET /inquiries"] - before; calls != 1 {
		t.Errorf("%d list calls for 3 inquiries", calls)
	}

	// An old open inquiry that Persona moved on is fetched by id: make the last sync look
	// recent so the pass reads only what is open.
	res2, err := e.inq.Create(ctx, agentActor, createInput("heal-old", false))
	noErr(t, err)
	noErr(t, e.sb.Complete(res2.Inquiry.ID, false))
	noErr(t, e.db.SetSettings(ctx, map[string]string{"sync.last_ok_start": fmt.Sprint(time.Now().Add(time.Hour).UnixMilli())}, db.AuditEntry{}))
	r, err = e.inq.Reconcile(ctx, false, nil)
	noErr(t, err)
	if r.Healed != 1 || e.cachedStatus(res2.Inquiry.ID) != "failed" {
		t.Fatalf("heal by id: %+v, status %s", r, e.cachedStatus(res2.Inquiry.ID))
	}

	// Persona down: the list still answers from the cache and says since when.
	e.sb.SetKnobs(sandbox.Knobs{ErrorRate: 1})
	if _, err := e.inq.Reconcile(ctx, false, nil); err == nil {
		t.Fatal("reconcile against a failing Persona succeeded")
	}
	_, page := e.do(c, "GET", "/inquiries", nil)
	mustContain(t, "list while Persona is down", page, "Persona cannot be reached since", ids[0])
	e.sb.SetKnobs(sandbox.Knobs{})
	_, err = e.inq.Reconcile(ctx, false, nil)
	noErr(t, err)
	if _, page := e.do(c, "GET", "/inquiries", nil); strings.Contains(page, "Persona cannot be reached") {
		t.Error("the banner stays after Persona answers again")
	}
}

// TestReconcileWithinRateLimit: inquiries made outside the console (template links, webhooks
// lost) are found 100 per call, paced under a tight rate limit without a single 429.
func TestReconcileWithinRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("paced by a rate limit: takes a few seconds")
	}
	e := newSandboxEnv(t, sandbox.Knobs{DropWebhooks: 1}, func(st *inquiry.Settings) { st.RateLimit = 60 })
	ctx := context.Background()
	const n = 450
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for i := range n {
		v := url.Values{"inquiry-template-id": {sandbox.TemplateKYC}, "environment-id": {sandbox.EnvironmentID}, "reference-id": {fmt.Sprintf("ext-%03d", i)}}
		res, err := noRedirect.Get(e.sbURL + "/verify?" + v.Encode())
		noErr(t, err)
		res.Body.Close()
		if res.StatusCode >= 400 {
			t.Fatalf("template link: %d", res.StatusCode)
		}
	}
	e.sb.SetKnobs(sandbox.Knobs{DropWebhooks: 1, RateLimitPerMinute: 60})
	before := e.sb.Stats()
	done := 0
	r, err := e.inq.Reconcile(ctx, false, func(d int) { done = d })
	noErr(t, err)
	after := e.sb.Stats()
	if r.Discovered != n || done != n || countWhere(t, e.testEnv, "reference_id LIKE 'ext-%'") != n {
		t.Fatalf("discovered %d (progress %d), want %d", r.Discovered, done, n)
	}
	if limited := after.RateLimited - before.RateLimited; limited != 0 {
		t.Errorf("%d calls refused with 429", limited)
	}
	if calls := after.APICalls - before.APICalls; calls > n/100+2 {
		t.Errorf("%d Persona calls for %d inquiries", calls, n)
	}
}

// TestExportCSVOpensInExcel: the export starts with a UTF-8 byte-order mark, so Excel shows
// "María García" rather than "MarÃ­a GarcÃ­a", and the mark is the only thing before the header.
func TestExportCSVOpensInExcel(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("viewer@example.com", db.RoleViewer, pw)
	c := e.signIn("viewer@example.com", pw)
	now := time.Now().UnixMilli()
	_, err := e.db.W.Exec(`INSERT INTO inquiries (id, reference_id, status, name, email, created_at, updated_at, synced_at)
		VALUES ('inq_bom', 'usr_BOM', 'created', 'María García', 'maria@example.com', ?, ?, ?)`, now, now, now)
	noErr(t, err)
	res, body := e.do(c, "GET", "/inquiries/export", nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(body, "\xef\xbb\xbfinquiry_id,reference_id,") {
		t.Fatalf("export: %d, starts %q; want the UTF-8 byte-order mark, then the header", res.StatusCode, body[:min(len(body), 20)])
	}
	if !strings.Contains(body, "\ninq_bom,usr_BOM,created,María García,") {
		t.Errorf("the accented name is not exported as UTF-8:\n%s", body)
	}
}

// A broad search's counts stop at the first matches they read: a status none of those had is
// said to be not counted, never "0+" beside a page of such rows, and the cap is said in words.
func TestBroadSearchCountsSayWhatTheyCounted(t *testing.T) {
	e, c, _ := seeded(t, 12000) // gmail.com: over planCap matches, so the search is broad
	pending := countWhere(t, e, "status = 'pending' AND email LIKE '%gmail.com'")
	if pending == 0 || countWhere(t, e, "email LIKE '%gmail.com'") < db.SearchCountCap {
		t.Fatalf("the seed should have over %d gmail.com inquiries, some pending (%d)", db.SearchCountCap, pending)
	}
	_, counts := e.hxGet(c, "/inquiries/counts?q=gmail.com&status=pending")
	if strings.Contains(counts, ">0+<") {
		t.Errorf("counts say 0+ for a status with %d matches:\n%s", pending, counts)
	}
	mustContain(t, "capped counts", counts, "Counting stopped at the first "+thousands(db.SearchCountCap)+" matches")
}
