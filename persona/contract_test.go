package persona_test

// Contract tests: the real client against the real built-in sandbox over HTTP, for every call
// the console makes, the state rules, errors and pagination edges of ../shared/persona-api.md.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/internal/testkit/sandboxkit"
	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

type contract struct {
	sb  *sandbox.Sandbox
	url string // the sandbox's base URL
	c   *persona.Client
}

func newContract(t *testing.T, opts sandbox.Options) *contract {
	t.Helper()
	opts.RetryScale = 0.001
	if opts.WebhookVersion == "" {
		opts.WebhookVersion = versionOf(t)
	}
	sb, url := sandboxkit.Start(t, opts)
	return &contract{sb: sb, url: url, c: versionClient(url, sandbox.DefaultAPIKey, versionOf(t))}
}

func client(base, key string) *persona.Client { return versionClient(base, key, "") }

func versionClient(base, key, version string) *persona.Client {
	return persona.New(persona.Config{BaseURL: base + "/api/v1", APIKey: key, Version: version, BackoffBase: time.Millisecond, MaxRetryElapsed: 3 * time.Second, RateLimit: 100000})
}

var ctx = context.Background()

func (k *contract) create(t *testing.T, ref string) *persona.Inquiry {
	t.Helper()
	q, err := k.c.CreateInquiry(ctx, persona.CreateInquiryParams{
		TemplateID: sandbox.TemplateKYC, ReferenceID: ref, IdempotencyKey: fmt.Sprintf("k-%s-%d", ref, time.Now().UnixNano()),
		Fields: map[string]string{"name-first": "Alexander", "name-last": "Sample", "birthdate": "1977-08-31", "address-country-code": "US"},
		Note:   "signup", Tags: []string{"web"},
	})
	if err != nil {
		t.Fatalf("create %s: %v", ref, err)
	}
	return q
}

func TestContractCreateAndRetrieve(t *testing.T) {
	k := newContract(t, sandbox.Options{})
	q := k.create(t, "usr_ABC123")
	if !strings.HasPrefix(q.ID, "inq_") || len(q.ID) != 32 {
		t.Errorf("id %q: want inq_ and 32 characters", q.ID)
	}
	if q.Status != persona.StatusCreated || q.ReferenceID != "usr_ABC123" || q.TemplateID != sandbox.TemplateKYC {
		t.Errorf("status %q ref %q template %q", q.Status, q.ReferenceID, q.TemplateID)
	}
	if q.Field("name-first") != "Alexander" || q.Field("birthdate") != "1977-08-31" || q.Name() != "Alexander Sample" {
		t.Errorf("fields: %v", q.Fields)
	}
	if q.Note != "signup" || len(q.Tags) != 1 || q.CreatedAt == nil || q.ExpiresAt == nil {
		t.Errorf("note %q tags %v created %v expires %v", q.Note, q.Tags, q.CreatedAt, q.ExpiresAt)
	}
	got, err := k.c.GetInquiry(ctx, q.ID)
	if err != nil || got.ID != q.ID || got.TemplateName == "" {
		t.Fatalf("retrieve: %+v %v (want the template included by default)", got, err)
	}
	// The older reference-id attribute is accepted too and lands in the same place.
	body := `{"data":{"attributes":{"inquiry-template-id":"` + sandbox.TemplateKYC + `","reference-id":"usr_old"}}}`
	req, _ := http.NewRequest("POST", k.url+"/api/v1/inquiries", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+sandbox.DefaultAPIKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	old, err := persona.DecodeInquiry(raw)
	if res.StatusCode != 201 || err != nil || old.ReferenceID != "usr_old" {
		t.Errorf("legacy reference-id: %d %v %+v", res.StatusCode, err, old)
	}
	for _, h := range []string{"Request-Id", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
		if res.Header.Get(h) == "" {
			t.Errorf("response lacks %s", h)
		}
	}
}

func TestContractErrors(t *testing.T) {
	k := newContract(t, sandbox.Options{})
	_, err := client(k.url, "persona_sandbox_wrong").GetInquiry(ctx, "inq_x")
	if !persona.IsUnauthorized(err) || !strings.Contains(persona.Explain(err), "API key") {
		t.Errorf("wrong key: %v", err)
	}
	_, err = k.c.GetInquiry(ctx, "inq_doesnotexist0000000000000000")
	var apiErr *persona.APIError
	if !persona.IsNotFound(err) || !errors.As(err, &apiErr) || apiErr.Title == "" || apiErr.RequestID == "" {
		t.Errorf("unknown id: %v", err)
	}
	_, err = k.c.CreateInquiry(ctx, persona.CreateInquiryParams{TemplateID: "itmpl_nope000000000000000000", IdempotencyKey: "k-bad-template"})
	if err == nil || persona.IsUnavailable(err) {
		t.Errorf("unknown template: %v", err)
	}
	if _, err := k.c.ListInquiryTemplates(ctx); err == nil || !strings.Contains(err.Error(), "production API key") {
		t.Errorf("templates with a sandbox key: %v", err)
	}
}

func TestContractStateRules(t *testing.T) {
	k := newContract(t, sandbox.Options{})
	q := k.create(t, "usr_rules")

	if _, _, err := k.c.ResumeInquiry(ctx, q.ID); !persona.IsConflict(err) {
		t.Errorf("resume created: %v, want 409 (only pending or expired)", err)
	}
	if err := k.sb.Start(q.ID); err != nil {
		t.Fatal(err)
	}
	got, token, err := k.c.ResumeInquiry(ctx, q.ID)
	if err != nil || got.Status != persona.StatusPending || strings.Count(token, ".") != 2 {
		t.Fatalf("resume pending: %v %q %v", got, token, err)
	}
	_, link, short, err := k.c.GenerateOneTimeLink(ctx, q.ID, time.Hour)
	if err != nil || !strings.Contains(link, "/verify?code=") || short == "" {
		t.Fatalf("one-time link: %q %q %v", link, short, err)
	}
	if got, err = k.c.AddInquiryTag(ctx, q.ID, "priority"); err != nil || !slices.Contains(got.Tags, "priority") {
		t.Fatalf("add tag: %v %v", got, err)
	}
	if got, err = k.c.ExpireInquiry(ctx, q.ID); err != nil || got.Status != persona.StatusExpired {
		t.Fatalf("expire: %v %v", got, err)
	}
	if _, _, _, err = k.c.GenerateOneTimeLink(ctx, q.ID, 0); err == nil {
		t.Errorf("one-time link for expired: no error")
	}
	if got, _, err = k.c.ResumeInquiry(ctx, q.ID); err != nil || got.Status != persona.StatusPending {
		t.Fatalf("resume expired: %v %v, want pending", got, err)
	}
	if err := k.sb.Complete(q.ID, true); err != nil {
		t.Fatal(err)
	}
	if got, _ = k.c.GetInquiry(ctx, q.ID); got.Status != persona.StatusApproved {
		t.Errorf("KYC passing ends %q, want approved", got.Status)
	}
	if _, err = k.c.MarkInquiryForReview(ctx, q.ID); err == nil {
		t.Errorf("mark approved for review: no error")
	}
	if got, err = k.c.RedactInquiry(ctx, q.ID); err != nil || got.RedactedAt == nil {
		t.Fatalf("redact: %v %v", got, err)
	}
	if _, err = k.c.RedactInquiry(ctx, q.ID); !persona.IsConflict(err) {
		t.Errorf("redact twice: %v, want 409", err)
	}

	q2 := k.create(t, "usr_review")
	if got, err = k.c.MarkInquiryForReview(ctx, q2.ID); err != nil || got.Status != persona.StatusNeedsReview {
		t.Fatalf("mark for review: %v %v", got, err)
	}
	if got, err = k.c.ApproveInquiry(ctx, q2.ID, "looks fine"); err != nil || got.Status != persona.StatusApproved || got.DecisionedAt == nil {
		t.Fatalf("approve: %v %v", got, err)
	}
	q3 := k.create(t, "usr_decline")
	if got, err = k.c.DeclineInquiry(ctx, q3.ID, "mismatch"); err != nil || got.Status != persona.StatusDeclined {
		t.Fatalf("decline: %v %v", got, err)
	}
	note := "updated"
	if got, err = k.c.UpdateInquiry(ctx, q3.ID, persona.UpdateInquiryParams{Note: &note, Fields: map[string]string{"name-first": "Alex"}}); err != nil || got.Note != "updated" || got.Field("name-first") != "Alex" {
		t.Fatalf("update: %v %v", got, err)
	}
}

func TestContractVerifications(t *testing.T) {
	k := newContract(t, sandbox.Options{})
	q := k.create(t, "usr_ver")
	if err := k.sb.Complete(q.ID, false); err != nil {
		t.Fatal(err)
	}
	got, err := k.c.GetInquiry(ctx, q.ID)
	if err != nil || got.Status != persona.StatusFailed || len(got.VerificationIDs) == 0 {
		t.Fatalf("failed inquiry: %+v %v", got, err)
	}
	for _, id := range got.VerificationIDs {
		v, err := k.c.GetVerification(ctx, id)
		if err != nil || !strings.HasPrefix(v.ID, "ver_") || !strings.HasPrefix(v.Type, "verification/") || len(v.Checks) == 0 {
			t.Fatalf("verification %s: %+v %v", id, v, err)
		}
	}
}

func TestContractListAndPagination(t *testing.T) {
	k := newContract(t, sandbox.Options{})
	var made []string
	for i := 0; i < 25; i++ {
		made = append(made, k.create(t, fmt.Sprintf("usr_%02d", i%5)).ID)
	}
	var seen []string
	err := k.c.EachInquiry(ctx, persona.ListInquiriesParams{PageSize: 10}, func(q *persona.Inquiry) error {
		seen = append(seen, q.ID)
		return nil
	})
	if err != nil || len(seen) != 25 {
		t.Fatalf("each: %d inquiries, %v", len(seen), err)
	}
	if seen[0] != made[24] || seen[24] != made[0] {
		t.Errorf("not newest first")
	}
	if n := k.sb.Stats().Calls["GET /inquiries"]; n != 3 {
		t.Errorf("25 inquiries at 10 a page took %d list calls, want 3", n)
	}
	page, err := k.c.ListInquiries(ctx, persona.ListInquiriesParams{ReferenceID: "usr_03", PageSize: 100})
	if err != nil || len(page.Inquiries) != 5 || page.NextAfter != "" {
		t.Fatalf("filter by reference: %d, next %q, %v", len(page.Inquiries), page.NextAfter, err)
	}
	k.sb.Complete(made[0], true)
	page, err = k.c.ListInquiries(ctx, persona.ListInquiriesParams{Status: "approved"})
	if err != nil || len(page.Inquiries) != 1 || page.Inquiries[0].ID != made[0] {
		t.Fatalf("filter by status: %+v %v", page, err)
	}
	page, err = k.c.ListInquiries(ctx, persona.ListInquiriesParams{TemplateID: sandbox.TemplateKYCManualReview})
	if err != nil || len(page.Inquiries) != 0 {
		t.Fatalf("filter by template: %+v %v", page, err)
	}
	page, err = k.c.ListInquiries(ctx, persona.ListInquiriesParams{CreatedAfter: time.Now().Add(time.Hour)})
	if err != nil || len(page.Inquiries) != 0 {
		t.Fatalf("filter by created range: %+v %v", page, err)
	}
}

func TestContractWebhooksSigned(t *testing.T) {
	type got struct {
		ev  *persona.Event
		err error
	}
	events := make(chan got, 32)
	const secret = "wbhsec_contract"
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, err := persona.VerifyWebhook(r.Header.Get("Persona-Signature"), body, []string{"wbhsec_old", secret}, 0, time.Now())
		events <- got{ev, err}
	}))
	defer hook.Close()
	k := newContract(t, sandbox.Options{WebhookURL: hook.URL, WebhookSecret: secret})
	q := k.create(t, "usr_hook")
	if err := k.sb.Complete(q.ID, true); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	deadline := time.After(5 * time.Second)
	for !names["inquiry.approved"] {
		select {
		case g := <-events:
			if g.err != nil {
				t.Fatalf("webhook refused: %v", g.err)
			}
			if g.ev.Inquiry == nil || g.ev.Inquiry.ID != q.ID || !strings.HasPrefix(g.ev.ID, "evt_") {
				t.Fatalf("event %+v", g.ev)
			}
			names[g.ev.Name] = true
		case <-deadline:
			t.Fatalf("events so far %v, no inquiry.approved", names)
		}
	}
	for _, n := range []string{"inquiry.created", "inquiry.started", "inquiry.completed"} {
		if !names[n] {
			t.Errorf("no %s event (got %v)", n, names)
		}
	}
}

// BenchmarkClientAgainstSandbox measures the client's calls per second against the sandbox
// over loopback HTTP, with the rate limit raised on both sides (the client honours the
// sandbox's RateLimit-* headers, which default to Persona's 300 a minute).
func BenchmarkClientAgainstSandbox(b *testing.B) {
	_, url := sandboxkit.Start(b, sandbox.Options{Knobs: sandbox.Knobs{RateLimitPerMinute: 1 << 30}})
	c := persona.New(persona.Config{BaseURL: url + "/api/v1", APIKey: sandbox.DefaultAPIKey, RateLimit: 1 << 30})
	q, err := c.CreateInquiry(ctx, persona.CreateInquiryParams{TemplateID: sandbox.TemplateKYC, IdempotencyKey: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.GetInquiry(ctx, q.ID); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}
