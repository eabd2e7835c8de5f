package inquiry

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// TestRetentionRemovesPersonalData: with the rule at 1 day and the clock moved 2 days on, an
// approved inquiry's personal data is gone from every table that held it (the database file and
// its WAL, after a checkpoint, hold none of the seeded names and emails), its ids, status, dates
// and audit trail stay, and an open inquiry keeps its data.
func TestRetentionRemovesPersonalData(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	secrets := []string{"Zebulon", "Quartermaine", "zebulon.q@example.org"}
	res, err := e.svc.Create(ctx, mailStaff, CreateInput{TemplateID: sandbox.TemplateKYC, ReferenceID: "ret-1",
		Fields: map[string]string{"name-first": "Zebulon", "name-last": "Quartermaine", "email-address": "zebulon.q@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	q := res.Inquiry
	m, err := e.svc.Send(ctx, mailStaff, q.ID, "zebulon.q@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	e.waitState(m.ID, db.EmailSent)
	// A webhook event about it, as Persona sends them: the whole inquiry with its fields.
	if _, err := e.db.StoreWebhookEvents(ctx, []db.WebhookEvent{{ID: "evt_ret1", Name: "inquiry.completed", InquiryID: q.ID,
		EventAt: time.Now(), ReceivedAt: time.Now(), Payload: `{"name-first":"Zebulon","name-last":"Quartermaine","email-address":"zebulon.q@example.org"}`}}, nil); err != nil {
		t.Fatal(err)
	}
	e.simulate(q.ID, "complete_inquiry")
	if got, err := e.svc.Refresh(ctx, mailStaff, q.ID); err != nil || got.Status != model.Approved { // the sandbox approves a completed inquiry
		t.Fatalf("refresh: %+v %v", got, err)
	}
	open := e.create("ret-2") // Pat Doe, still open
	for _, s := range secrets {
		if hits := dbHits(t, e.db, s); hits == 0 {
			t.Fatalf("%q not in the database before the rule ran: the check below proves nothing", s)
		}
	}

	if fe, err := e.svc.SaveRetention(ctx, model.Actor{ID: 1, Name: "Ann Admin"}, RetentionInput{Days: "1", AtPersona: true}); err != nil || fe != "" {
		t.Fatalf("save retention: %v %q", err, fe)
	}
	now := time.Now()
	if n, err := e.svc.ApplyRetention(ctx, now); err != nil || n != 0 {
		t.Fatalf("retention today: removed %d (%v), want 0: the inquiry finished just now", n, err)
	}
	if n, err := e.svc.ApplyRetention(ctx, now.Add(48*time.Hour)); err != nil || n != 1 {
		t.Fatalf("retention 2 days on: removed %d (%v), want 1", n, err)
	}
	for _, s := range secrets {
		if hits := dbHits(t, e.db, s); hits != 0 {
			t.Errorf("%q still in the database file or its WAL %d times", s, hits)
		}
	}
	if dbHits(t, e.db, "pat@example.com") == 0 {
		t.Error("the open inquiry's email was removed too")
	}

	got, err := e.db.GetInquiry(ctx, q.ID)
	if err != nil || got.Status != model.Approved || got.Name != "" || got.Email != "" || len(got.Fields) != 0 || got.CreatedAt.IsZero() {
		t.Errorf("removed inquiry: %+v %v; want approved, dates kept, no name, email or fields", got, err)
	}
	at, by, err := e.db.PersonalDataRemoved(ctx, q.ID)
	if err != nil || by != RetentionBy || !at.Equal(now.Add(48*time.Hour).Truncate(time.Millisecond)) {
		t.Errorf("removed at %v by %q (%v)", at, by, err)
	}
	audit, _ := e.db.ListAudit(ctx, db.AuditFilter{Target: q.ID})
	actions := map[string]bool{}
	for _, a := range audit {
		actions[a.Action] = true
	}
	if got.RedactedAt.IsZero() {
		t.Error("Persona was not asked to redact the inquiry (the setting asks for it)")
	}
	for _, want := range []string{"inquiry.create", "email.queue", "inquiry.redact", "inquiry.personal_data_removed"} {
		if !actions[want] {
			t.Errorf("audit trail lacks %s: %+v", want, audit)
		}
	}
	if o, _ := e.db.GetInquiry(ctx, open.ID); o.Email != "pat@example.com" {
		t.Errorf("open inquiry: %+v", o)
	}

	// A refresh from Persona (which still has the data) does not bring it back.
	if _, err := e.svc.Refresh(ctx, mailStaff, q.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.db.GetInquiry(ctx, q.ID); got.Name != "" || got.Email != "" || len(got.Fields) != 0 {
		t.Errorf("after a refresh: %+v", got)
	}
	// The rule does not count the same inquiry again.
	if n, err := e.svc.ApplyRetention(ctx, now.Add(72*time.Hour)); err != nil || n != 0 {
		t.Errorf("a second pass removed %d (%v)", n, err)
	}
}

// TestRetentionSettingInWords: bad input is refused in words and changes nothing; empty is off.
func TestRetentionSettingInWords(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, bad := range []string{"ten", "-1", "1.5", "100000"} {
		if fe, err := e.svc.SaveRetention(ctx, agent, RetentionInput{Days: bad}); err != nil || !strings.Contains(fe, "whole number of days") {
			t.Errorf("%q: %q %v", bad, fe, err)
		}
	}
	if d, _ := e.svc.RetentionDays(ctx); d != 0 {
		t.Errorf("days after bad input: %d", d)
	}
	e.svc.SaveRetention(ctx, agent, RetentionInput{Days: " 30 "})
	if d, _ := e.svc.RetentionDays(ctx); d != 30 {
		t.Errorf("days: %d, want 30", d)
	}
	e.svc.SaveRetention(ctx, agent, RetentionInput{})
	if d, _ := e.svc.RetentionDays(ctx); d != 0 {
		t.Errorf("days after clearing: %d, want 0 (off)", d)
	}
}

// dbHits checkpoints the WAL and counts s (as written and lower-cased) in the database file
// and its WAL.
func dbHits(t *testing.T, d *db.DB, s string) int {
	t.Helper()
	if _, err := d.W.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range []string{d.Path, d.Path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		n += bytes.Count(b, []byte(s))
		if low := strings.ToLower(s); low != s {
			n += bytes.Count(b, []byte(low))
		}
	}
	return n
}
