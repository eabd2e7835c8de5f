package bulk

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

var kyc = Options{TemplateID: sandbox.TemplateKYC}

// The dry run classifies a messy file with the form's rules and the duplicate guard, and
// sends nothing to Persona.
func TestCheckMessyFile(t *testing.T) {
	e := newEnv(t, sandbox.Knobs{}, 0)
	ctx := context.Background()
	mk := func(ref string) string {
		res, err := e.svc.Create(ctx, staff, inquiry.CreateInput{TemplateID: sandbox.TemplateKYC, ReferenceID: ref, Fields: map[string]string{"name-first": "Pre"}})
		if err != nil || res.Inquiry == nil {
			t.Fatalf("create %s: %v %+v", ref, err, res)
		}
		return res.Inquiry.ID
	}
	open := mk("usr_open")
	done := mk("usr_done")
	e.simulate(done, "start_inquiry")
	e.simulate(done, "complete_inquiry")
	if _, err := e.svc.Refresh(ctx, staff, done); err != nil {
		t.Fatal(err)
	}
	before := e.sb.Stats().APICalls

	file := "\uFEFFreference_id;first_name;last_name;email;birthdate;country\n" +
		"usr_1;Zoë;Ångström;zoe@example.com;1980-01-02;se\n" + // line 2: ready (country upper-cased)
		"usr_2;Bad;Mail;not-an-email;;\n" + // 3: invalid email
		";No;Ref;noref@example.com;;\n" + // 4: invalid, reference ID required
		"usr_1;Zoë;Again;zoe2@example.com;;\n" + // 5: duplicate of line 2
		"usr_open;Pre;Open;;;\n" + // 6: already open (nothing typed differs from it)
		"usr_done;Dan;Done;dan@example.com;;\n" + // 7: already verified
		"usr_3;Ann;Later;ann@example.com;2999-01-01;XX\n" // 8: invalid birthdate and country
	c := e.check(file, kyc)
	want := []struct {
		class, problem string
	}{
		{Ready, ""},
		{Invalid, "Email: Enter an email address"},
		{Invalid, "Reference ID: Enter the person's reference ID"},
		{Duplicate, "Same reference ID as line 2"},
		{Open, open},
		{Verified, "skipped"},
		{Invalid, "Birthdate: Enter a birthdate in the past"},
	}
	if len(c.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(c.Rows), len(want))
	}
	for i, w := range want {
		r := c.Rows[i]
		if r.Class != w.class || !strings.Contains(r.Problem, w.problem) {
			t.Errorf("line %d: %s %q, want %s containing %q", r.Line, r.Class, r.Problem, w.class, w.problem)
		}
	}
	if !strings.Contains(c.Rows[6].Problem, "Country: Choose a country from the list") {
		t.Errorf("line 8 names only %q", c.Rows[6].Problem)
	}
	if got := c.Rows[0].Input.Fields["address-country-code"]; got != "SE" {
		t.Errorf("country %q, want SE", got)
	}
	if got, want := c.Summary(), "1 ready, 3 invalid, 1 duplicate in the file, 1 already open, 1 already verified"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if n := e.sb.Stats().APICalls - before; n != 0 {
		t.Errorf("the dry run made %d Persona calls, want 0", n)
	}
	// Create anyway: the verified row is to be created.
	if c := e.check(file, Options{TemplateID: sandbox.TemplateKYC, CreateAnyway: true}); !strings.Contains(c.Rows[5].Problem, "as you asked") {
		t.Errorf("create anyway: %q", c.Rows[5].Problem)
	}
}

func TestJobCreatesAndEmails(t *testing.T) {
	e := newEnv(t, sandbox.Knobs{}, 6000)
	e.fullSync()
	before := e.sb.Stats()
	e.run()
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("reference_id,first_name,last_name,email\n")
	const n = 12
	for i := range n {
		b.WriteString("usr_" + string(rune('a'+i)) + ",Pat,Doe,pat" + string(rune('a'+i)) + "@example.com\n")
	}
	b.WriteString("usr_a,Pat,Twice,twice@example.com\n") // duplicate: skipped
	b.WriteString("usr_z,Pat,Bad,bad@\n")                // invalid: failed
	o := Options{TemplateID: sandbox.TemplateKYC, Email: true}
	c := e.check(b.String(), o)
	id, err := e.eng.Start(ctx, staff, "cohort-2026-12.csv", o, c)
	if err != nil {
		t.Fatal(err)
	}
	p := e.waitFinished(id, 30*time.Second)
	if p.Job.State != "done" || p.Counts[Created] != n || p.Counts[Skipped] != 1 || p.Counts[Failed] != 1 || p.Done != n+2 {
		t.Fatalf("progress %+v", p)
	}
	st := e.sb.Stats()
	if st.InquiriesCreated != n {
		t.Errorf("sandbox created %d inquiries, want %d", st.InquiriesCreated, n)
	}
	// Per row one call, the create: the guard decides from the complete cache the worker's one
	// sync pass brought up to date (one list call), and the email uses the create's answer.
	if st.Calls["POST /inquiries"] != n || st.Calls["GET /inquiries"]-before.Calls["GET /inquiries"] != 1 || st.APICalls-before.APICalls != int64(n+1) {
		t.Errorf("Persona calls %v (%d in all, %d before the job), want %d creates and one list", st.Calls, st.APICalls, before.APICalls, n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.catcher.Count() < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := e.catcher.Count(); got != n {
		t.Errorf("%d emails caught, want %d", got, n)
	}
	for _, r := range e.rows(id) {
		if r.State == Created && (r.InquiryID == "" || r.Link == "" || r.EmailID == 0) {
			t.Errorf("line %d: created without inquiry, link or email: %+v", r.Line, r)
		}
	}
	var out bytes.Buffer
	if err := e.eng.WriteResults(ctx, &out, id); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(recs) != n+3 {
		t.Fatalf("results: %v, %d lines", err, len(recs))
	}
	if last := recs[len(recs)-1]; last[3] != Failed || !strings.Contains(last[4], "Email") {
		t.Errorf("last result %q", last)
	}
	audit, err := e.d.ListAudit(ctx, db.AuditFilter{Action: "bulk."})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action)
	}
	if s := strings.Join(actions, " "); !strings.Contains(s, "bulk.start") || !strings.Contains(s, "bulk.done") {
		t.Errorf("audit: %q", s)
	}
}

// 5xx and 429 storms from the sandbox: every row still ends created, once.
func TestJobThroughErrorsAndThrottling(t *testing.T) {
	e := newEnv(t, sandbox.Knobs{ErrorRate: 0.3, Throttle: 3}, 6000)
	e.run()
	var b strings.Builder
	b.WriteString("reference_id,email\n")
	const n = 20
	for i := range n {
		b.WriteString("usr_" + string(rune('a'+i)) + ",p" + string(rune('a'+i)) + "@example.com\n")
	}
	o := Options{TemplateID: sandbox.TemplateKYC, Email: true}
	id, err := e.eng.Start(context.Background(), staff, "storm.csv", o, e.check(b.String(), o))
	if err != nil {
		t.Fatal(err)
	}
	p := e.waitFinished(id, 60*time.Second)
	if p.Counts[Created] != n {
		t.Fatalf("outcomes %+v, want %d created", p.Counts, n)
	}
	st := e.sb.Stats()
	if st.InquiriesCreated != n {
		t.Errorf("sandbox created %d inquiries, want %d", st.InquiriesCreated, n)
	}
	if st.InjectedErrors == 0 || st.RateLimited == 0 {
		t.Errorf("no storm happened: %d errors, %d 429s", st.InjectedErrors, st.RateLimited)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.catcher.Count() < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := e.catcher.Count(); got != n {
		t.Errorf("%d emails, want %d", got, n)
	}
}

// Pause holds the job; cancel settles what is left and says so.
func TestJobPauseAndCancel(t *testing.T) {
	e := newEnv(t, sandbox.Knobs{}, 0)
	ctx := context.Background()
	o := kyc
	id, err := e.eng.Start(ctx, staff, "x.csv", o, e.check("reference_id\nusr_1\nusr_2\n", o))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := e.eng.Pause(ctx, staff, id); !ok || err != nil {
		t.Fatalf("pause: %v %v", ok, err)
	}
	e.run()
	if ok, err := e.eng.Cancel(ctx, staff, id); !ok || err != nil {
		t.Fatalf("cancel: %v %v", ok, err)
	}
	p := e.waitFinished(id, 5*time.Second)
	if p.Job.State != "cancelled" || p.Counts[Cancelled] != 2 || e.sb.Stats().InquiriesCreated != 0 {
		t.Fatalf("after cancel: %+v, %d created", p, e.sb.Stats().InquiriesCreated)
	}
	if ok, _ := e.eng.Resume(ctx, staff, id); ok {
		t.Error("a cancelled job resumed")
	}
}

// The sandbox enforces the rate limit and counts every 429: the worker, pacing itself on the
// client's budget, causes none.
func TestJobStaysWithinRateLimit(t *testing.T) {
	e := newEnv(t, sandbox.Knobs{RateLimitPerMinute: 600}, 600)
	e.fullSync()
	before := e.sb.Stats().APICalls
	e.run()
	var b strings.Builder
	b.WriteString("reference_id,email\n")
	const n = 45 // 46 calls: beyond the client's burst of 30, so pacing has to work
	for i := range n {
		fmt.Fprintf(&b, "usr_%02d,p%02d@example.com\n", i, i)
	}
	o := Options{TemplateID: sandbox.TemplateKYC, Email: true}
	id, err := e.eng.Start(context.Background(), staff, "paced.csv", o, e.check(b.String(), o))
	if err != nil {
		t.Fatal(err)
	}
	if p := e.waitFinished(id, 60*time.Second); p.Counts[Created] != n {
		t.Fatalf("outcomes %v", p.Counts)
	}
	if st := e.sb.Stats(); st.RateLimited != 0 || st.APICalls-before != n+1 {
		t.Errorf("%d calls, %d answered 429", st.APICalls-before, st.RateLimited)
	}
}

// The guard decides from the cache only once the worker's sync pass has brought it up to date:
// an inquiry made at Persona outside the console, unknown to the cache when the file was
// checked, is still found and reused, not created a second time.
func TestJobGuardFindsInquiryMadeElsewhere(t *testing.T) {
	e := newEnv(t, sandbox.Knobs{}, 6000)
	e.fullSync() // before the inquiry made elsewhere: the cache is complete, but behind
	elsewhere := e.createAtSandbox("usr_elsewhere", "else@example.com")
	o := Options{TemplateID: sandbox.TemplateKYC, Email: true}
	c := e.check("reference_id,email\nusr_new,new@example.com\nusr_elsewhere,else@example.com\n", o)
	if c.Counts[Ready] != 2 {
		t.Fatalf("check: %s (the cache should not know usr_elsewhere yet)", c.Summary())
	}
	id, err := e.eng.Start(context.Background(), staff, "x.csv", o, c)
	if err != nil {
		t.Fatal(err)
	}
	e.run()
	p := e.waitFinished(id, 20*time.Second)
	if p.Counts[Created] != 1 || p.Counts[Reused] != 1 {
		t.Fatalf("outcomes %v, want 1 created and 1 reused", p.Counts)
	}
	rows := e.rows(id)
	if rows[1].InquiryID != elsewhere || rows[1].EmailID == 0 {
		t.Errorf("usr_elsewhere: %+v, want inquiry %s emailed", rows[1], elsewhere)
	}
	st := e.sb.Stats()
	if st.InquiriesCreated != 2 {
		t.Errorf("sandbox has %d inquiries, want 2", st.InquiriesCreated)
	}
	// The reused inquiry's link may be out already: its email asks Persona first (a retrieve);
	// the row created by the job needs none.
	if st.Calls["GET /inquiries/{id}"] == 0 || st.Calls["GET /inquiries"] != 2 {
		t.Errorf("calls %v, want the reused inquiry retrieved and two lists (the full sync's and the job's)", st.Calls)
	}
}

// A cache that has never read all of Persona's inquiries cannot say a person has none there:
// each row is looked up at Persona before its create, and the check says what that costs.
func TestJobGuardAsksPersonaUntilFullSync(t *testing.T) {
	e := newEnv(t, sandbox.Knobs{}, 6000)
	o := Options{TemplateID: sandbox.TemplateKYC}
	const n = 5
	var b strings.Builder
	b.WriteString("reference_id\n")
	for i := range n {
		fmt.Fprintf(&b, "usr_%02d\n", i)
	}
	if got := e.eng.CallsPerRow(context.Background()); got != 2 {
		t.Errorf("calls per row before a full sync: %d, want 2", got)
	}
	id, err := e.eng.Start(context.Background(), staff, "x.csv", o, e.check(b.String(), o))
	if err != nil {
		t.Fatal(err)
	}
	e.run()
	if p := e.waitFinished(id, 20*time.Second); p.Counts[Created] != n {
		t.Fatalf("outcomes %v", p.Counts)
	}
	if st := e.sb.Stats(); st.Calls["POST /inquiries"] != n || st.Calls["GET /inquiries"] != n {
		t.Errorf("calls %v, want %d creates, each after a look-up", st.Calls, n)
	}
	e.fullSync()
	if got := e.eng.CallsPerRow(context.Background()); got != 1 {
		t.Errorf("calls per row after a full sync: %d, want 1", got)
	}
}

// createAtSandbox makes an inquiry at the sandbox directly, as another system would.
func (e *env) createAtSandbox(ref, email string) string {
	e.t.Helper()
	body := `{"data":{"attributes":{"inquiry-template-id":"` + sandbox.TemplateKYC + `","reference-id":"` + ref + `","fields":{"email-address":"` + email + `"}}}}`
	req, _ := http.NewRequest("POST", e.sbURL+"/api/v1/inquiries", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+sandbox.DefaultAPIKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Data struct{ ID string } `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 201 {
		e.t.Fatalf("create at the sandbox: %d %v", res.StatusCode, err)
	}
	return out.Data.ID
}
