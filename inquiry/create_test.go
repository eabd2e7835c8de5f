package inquiry

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

func TestCreateSavesInquiryAndLink(t *testing.T) {
	e := newEnv(t)
	res := e.create(t, alexander(NewKey()))
	q := res.Inquiry
	if q == nil || !strings.HasPrefix(q.ID, "inq_") || q.Status != "created" {
		t.Fatalf("created %+v", q)
	}
	if q.ReferenceID != "usr_ABC123" || q.Name != "Alexander Sample" || q.Fields["birthdate"] != "1977-08-31" {
		t.Errorf("cached row lost data: ref %q name %q fields %v", q.ReferenceID, q.Name, q.Fields)
	}
	if st, ok := e.sb.Inquiry(q.ID); !ok || st != "created" {
		t.Errorf("sandbox has %q %v", st, ok)
	}
	l, err := e.svc.CurrentLink(context.Background(), q)
	if err != nil || l == nil {
		t.Fatalf("no link recorded: %v", err)
	}
	if want := e.url + "/verify?inquiry-id=" + q.ID; l.URL != want || l.Kind != "inquiry" {
		t.Errorf("link %s %q, want inquiry %q", l.Kind, l.URL, want)
	}
	audit, _ := e.db.ListAudit(context.Background(), dbAudit(q.ID))
	if len(audit) < 2 {
		t.Errorf("audit entries for the inquiry: %d, want create and link", len(audit))
	}
}

func TestDoubleSubmitCreatesOne(t *testing.T) {
	e := newEnv(t)
	key := NewKey()
	first := e.create(t, alexander(key))
	second := e.create(t, alexander(key))
	if second.Inquiry == nil || second.Inquiry.ID != first.Inquiry.ID {
		t.Fatalf("the same form twice gave %+v and %+v", first.Inquiry, second.Inquiry)
	}
	if n := e.sb.Stats().InquiriesCreated; n != 1 {
		t.Fatalf("sandbox created %d inquiries, want 1", n)
	}
}

// The console crashed after Persona answered and before the row was saved: the retry (same
// form, same key) adopts Persona's inquiry instead of creating another.
func TestCrashBetweenCallAndSave(t *testing.T) {
	e := newEnv(t)
	key := NewKey()
	in := alexander(key)
	c, _ := e.svc.Client()
	// What Create does up to the crash: the request stored and marked sent, then Persona called.
	if _, err := e.db.BeginInquiryRequest(context.Background(), dbRequest(key, in)); err != nil {
		t.Fatal(err)
	}
	if err := e.db.MarkInquiryRequestSent(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	p, err := c.CreateInquiry(context.Background(), persona.CreateInquiryParams{TemplateID: in.TemplateID, ReferenceID: in.ReferenceID, Fields: in.Fields, IdempotencyKey: key})
	if err != nil {
		t.Fatal(err)
	}
	// ... crash: nothing saved. The person presses the button again.
	res := e.create(t, in)
	if res.Inquiry == nil || res.Inquiry.ID != p.ID {
		t.Fatalf("retry gave %+v, want Persona's %s adopted", res, p.ID)
	}
	if n := e.sb.Stats().InquiriesCreated; n != 1 {
		t.Fatalf("sandbox created %d inquiries, want 1", n)
	}
	// And a fresh form for the same person (new key) is guarded, not duplicated.
	again := e.create(t, alexander(NewKey()))
	if again.Guard != model.GuardUseExisting || again.Existing.ID != p.ID {
		t.Fatalf("fresh form: guard %q existing %+v", again.Guard, again.Existing)
	}
}

// An inquiry created outside the console (or whose answer was lost with a new key) is found
// through Persona's filter[reference-id].
func TestGuardFindsInquiryCreatedElsewhere(t *testing.T) {
	e := newEnv(t)
	c, _ := e.svc.Client()
	p, err := c.CreateInquiry(context.Background(), persona.CreateInquiryParams{TemplateID: sandbox.TemplateKYC, ReferenceID: "usr_ABC123", IdempotencyKey: NewKey()})
	if err != nil {
		t.Fatal(err)
	}
	res := e.create(t, alexander(NewKey()))
	if res.Guard != model.GuardUseExisting || res.Existing == nil || res.Existing.ID != p.ID {
		t.Fatalf("guard %q existing %+v, want use-existing %s", res.Guard, res.Existing, p.ID)
	}
	if _, err := e.db.GetInquiry(context.Background(), p.ID); err != nil {
		t.Fatalf("the inquiry found at Persona was not adopted into the cache: %v", err)
	}
}

func TestDuplicateGuard(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		prepare   func(e *env, id string)
		wantGuard model.Guard
		notice    string
	}{
		{"created: use it", func(*env, string) {}, model.GuardUseExisting, ""},
		{"pending: resume", func(e *env, id string) { mustNil(t, e.sb.Start(id)) }, model.GuardResume, ""},
		{"approved: confirm", func(e *env, id string) { mustNil(t, e.sb.Complete(id, true)) }, model.GuardConfirm, ""},
		{"needs review: confirm", func(e *env, id string) {
			c, _ := e.svc.Client()
			_, err := c.MarkInquiryForReview(ctx, id)
			mustNil(t, err)
		}, model.GuardConfirm, ""},
		{"failed: new one", func(e *env, id string) { mustNil(t, e.sb.Complete(id, false)) }, "", "is failed, so this is a new one"},
		{"expired: new one", func(e *env, id string) {
			c, _ := e.svc.Client()
			_, err := c.ExpireInquiry(ctx, id)
			mustNil(t, err)
		}, "", "is expired, so this is a new one"},
		{"declined: new one", func(e *env, id string) {
			c, _ := e.svc.Client()
			_, err := c.DeclineInquiry(ctx, id, "")
			mustNil(t, err)
		}, "", "is declined, so this is a new one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			first := e.create(t, alexander(NewKey()))
			tt.prepare(e, first.Inquiry.ID)
			res := e.create(t, alexander(NewKey()))
			if res.Guard != tt.wantGuard {
				t.Fatalf("guard %q, want %q", res.Guard, tt.wantGuard)
			}
			if tt.wantGuard != "" {
				if res.Inquiry != nil || res.Existing.ID != first.Inquiry.ID {
					t.Fatalf("guarded create returned inquiry %+v / existing %+v", res.Inquiry, res.Existing)
				}
				if n := e.sb.Stats().InquiriesCreated; n != 1 {
					t.Fatalf("sandbox created %d, want 1", n)
				}
				return
			}
			if res.Inquiry == nil || res.Inquiry.ID == first.Inquiry.ID || !strings.Contains(res.Notice, tt.notice) {
				t.Fatalf("got %+v notice %q, want a new inquiry and a notice with %q", res.Inquiry, res.Notice, tt.notice)
			}
		})
	}
}

func TestConfirmCreatesAnother(t *testing.T) {
	e := newEnv(t)
	first := e.create(t, alexander(NewKey()))
	mustNil(t, e.sb.Complete(first.Inquiry.ID, true))
	key := NewKey()
	if res := e.create(t, alexander(key)); res.Guard != model.GuardConfirm {
		t.Fatalf("guard %q", res.Guard)
	}
	in := alexander(key) // "Create anyway" posts the same form with the same key
	in.Confirm = true
	res := e.create(t, in)
	if res.Inquiry == nil || res.Inquiry.ID == first.Inquiry.ID || !strings.Contains(res.Notice, "as you confirmed") {
		t.Fatalf("confirm: %+v %q", res.Inquiry, res.Notice)
	}
}

func TestPersonaErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(e *env, in *CreateInput)
		check func(error) bool
		words string
	}{
		{"invalid key", func(e *env, _ *CreateInput) {
			st := e.svc.Settings()
			st.APIKey = "persona_sandbox_wrong"
			e.svc.apply(st)
		}, persona.IsUnauthorized, "API key"},
		{"template not found", func(e *env, in *CreateInput) { in.TemplateID = "itmpl_doesNotExist1234567890" }, func(err error) bool {
			return persona.IsNotFound(err) || persona.IsUnprocessable(err)
		}, "Persona"},
		{"rate limited", func(e *env, _ *CreateInput) {
			e.sb.SetKnobs(sandbox.Knobs{RateLimitPerMinute: 1})
			c, _ := e.svc.Client()
			c.GetInquiry(ctx, "inq_warmup") // uses up the minute's one request
		}, persona.IsRateLimited, "busy"},
		{"unreachable", func(e *env, _ *CreateInput) { e.sb.SetKnobs(sandbox.Knobs{ErrorRate: 1}) }, persona.IsUnavailable, "unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			in := alexander(NewKey())
			tt.setup(e, &in)
			_, err := e.svc.Create(ctx, agent, in)
			if err == nil || !tt.check(err) {
				t.Fatalf("err %v", err)
			}
			if !IsPersonaError(err) || !strings.Contains(persona.Explain(err), tt.words) {
				t.Errorf("explained as %q, want words with %q", persona.Explain(err), tt.words)
			}
			if n := e.sb.Stats().InquiriesCreated; n != 0 {
				t.Errorf("sandbox created %d inquiries", n)
			}
		})
	}
}

func TestNewLinkByStatus(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	q := e.create(t, alexander(NewKey())).Inquiry

	l, err := e.svc.NewLink(ctx, agent, q.ID)
	if err != nil || l.Kind != "inquiry" {
		t.Fatalf("created: %+v %v", l, err)
	}
	mustNil(t, e.sb.Start(q.ID))
	l, err = e.svc.NewLink(ctx, agent, q.ID)
	if err != nil || l.Kind != "one-time" || !strings.Contains(l.URL, "code=") || l.ExpiresAt.IsZero() {
		t.Fatalf("pending: %+v %v", l, err)
	}
	c, _ := e.svc.Client()
	_, err = c.ExpireInquiry(ctx, q.ID)
	mustNil(t, err)
	l, err = e.svc.NewLink(ctx, agent, q.ID)
	if err != nil || l.Kind != "one-time" {
		t.Fatalf("expired: %+v %v", l, err)
	}
	if got, _ := e.db.GetInquiry(ctx, q.ID); got.Status != "pending" {
		t.Errorf("expired inquiry was not resumed: %s", got.Status)
	}
	mustNil(t, e.sb.Complete(q.ID, true))
	if _, err = e.svc.NewLink(ctx, agent, q.ID); !errors.Is(err, ErrNoLinkNeeded) {
		t.Fatalf("approved: %v, want ErrNoLinkNeeded", err)
	}
	links, _ := e.db.Links(ctx, q.ID)
	if len(links) != 4 { // created at creation, plus three
		t.Errorf("links recorded: %d, want 4", len(links))
	}
}

func TestDecideAndRefresh(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	q := e.create(t, alexander(NewKey())).Inquiry
	mustNil(t, e.sb.Complete(q.ID, true))
	got, err := e.svc.Refresh(ctx, agent, q.ID)
	if err != nil || got.Status != "approved" {
		t.Fatalf("refresh: %+v %v", got, err)
	}
	q2 := e.create(t, CreateInput{TemplateID: sandbox.TemplateKYC, ReferenceID: "usr_other", Key: NewKey()}).Inquiry
	got, err = e.svc.Decide(ctx, agent, q2.ID, "decline", "document unreadable")
	if err != nil || got.Status != "declined" {
		t.Fatalf("decline: %+v %v", got, err)
	}
	if st, _ := e.sb.Inquiry(q2.ID); st != "declined" {
		t.Errorf("sandbox status %q", st)
	}
	if _, err := e.svc.Decide(ctx, agent, q2.ID, "expire", ""); err == nil {
		t.Errorf("expiring a declined inquiry should fail at Persona")
	}
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// With WarnPrior (the New inquiry form), a decline stops the create even behind a later
// expired inquiry, naming Persona as the decider when no staff member declined it here; an
// approval after it does not.
func TestWarnPriorLooksPastExpired(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	c, _ := e.svc.Client()
	declined := e.create(t, alexander(NewKey())).Inquiry
	_, err := c.DeclineInquiry(ctx, declined.ID, "")
	mustNil(t, err)
	expired := e.create(t, alexander(NewKey())).Inquiry // a new one after the decline, left to expire
	_, err = c.ExpireInquiry(ctx, expired.ID)
	mustNil(t, err)

	in := alexander(NewKey())
	in.WarnPrior = true
	res := e.create(t, in)
	if res.Guard != model.GuardPriorOutcome || res.Existing.ID != declined.ID || res.Outcome == nil || res.Outcome.By != "" || res.Outcome.At.IsZero() {
		t.Fatalf("guard %q existing %+v outcome %+v, want prior-outcome for %s by Persona", res.Guard, res.Existing, res.Outcome, declined.ID)
	}
	if n := e.sb.Stats().InquiriesCreated; n != 2 {
		t.Fatalf("sandbox created %d, want 2", n)
	}
	in.Confirm = true
	if res = e.create(t, in); res.Inquiry == nil || !strings.Contains(res.Notice, "was declined, as you confirmed") {
		t.Fatalf("confirmed: %+v %q", res.Inquiry, res.Notice)
	}
	// Now the newest is open: the usual guard, not the old decline.
	mustNil(t, e.sb.Complete(res.Inquiry.ID, true))
	in = alexander(NewKey())
	in.WarnPrior = true
	if res = e.create(t, in); res.Guard != model.GuardConfirm {
		t.Fatalf("after an approval: guard %q, want confirm", res.Guard)
	}
}
