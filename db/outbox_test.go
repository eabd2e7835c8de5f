package db

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func outboxTestDB(t *testing.T) *DB {
	t.Helper()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	now := Now()
	_, err = d.W.Exec(`INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at)
		VALUES (7, 'ann@example.com', 'Ann Agent', 'agent', 'x', ?, ?)`, now, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"inq_1", "inq_2"} {
		_, err = d.W.Exec(`INSERT INTO inquiries (id, status, created_at, updated_at, synced_at)
			VALUES (?, 'created', ?, ?, ?)`, id, now, now, now)
		if err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func queueTestEmail(t *testing.T, d *DB, e OutboxEmail) int64 {
	t.Helper()
	if e.Recipient == "" {
		e.Recipient = "pat@example.com"
	}
	if e.Subject == "" {
		e.Subject = "Please verify your identity"
	}
	var id int64
	err := d.Tx(context.Background(), func(tx *sql.Tx) error {
		var err error
		id, err = QueueEmail(context.Background(), tx, e)
		if err != nil {
			return err
		}
		return AddAudit(context.Background(), tx, AuditEntry{UserID: e.QueuedBy, Action: "inquiry.email", Target: e.InquiryID})
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestOutboxQueueAndGet(t *testing.T) {
	ctx := context.Background()
	d := outboxTestDB(t)
	id := queueTestEmail(t, d, OutboxEmail{InquiryID: "inq_1", Recipient: "pat@example.com",
		Subject: "Hi", BodyText: "text", BodyHTML: "<p>html</p>", QueuedBy: 7})
	e, err := d.GetEmail(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if e.State != EmailQueued || e.Kind != "link" || e.InquiryID != "inq_1" || e.QueuedByName != "Ann Agent" ||
		e.BodyHTML != "<p>html</p>" || e.Attempts != 0 || e.NextAttemptAt.IsZero() || !e.ClaimedAt.IsZero() {
		t.Fatalf("unexpected row: %+v", e)
	}
	if !strings.HasPrefix(e.MessageID, "<") || !strings.HasSuffix(e.MessageID, ">") || !strings.Contains(e.MessageID, "@") {
		t.Fatalf("generated Message-ID %q is not <random@host>", e.MessageID)
	}
	// A caller's Message-ID is kept, bracketed.
	id2 := queueTestEmail(t, d, OutboxEmail{Kind: "test", MessageID: "abc@acme.example"})
	e2, _ := d.GetEmail(ctx, id2)
	if e2.MessageID != "<abc@acme.example>" || e2.InquiryID != "" || e2.QueuedByName != "" {
		t.Fatalf("unexpected row: %+v", e2)
	}
	if _, err := d.GetEmail(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing email: got %v, want ErrNotFound", err)
	}
	// The caller's transaction decides: a rollback leaves nothing behind.
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := QueueEmail(ctx, tx, OutboxEmail{Recipient: "x@example.com"}); err != nil {
			return err
		}
		return errors.New("audit failed")
	})
	if err == nil {
		t.Fatal("expected the transaction's error")
	}
	counts, _ := d.CountEmailsByState(ctx)
	if counts[EmailQueued] != 2 {
		t.Fatalf("after rollback: %v queued, want 2", counts[EmailQueued])
	}
}

func TestOutboxClaimIsExclusiveAndOrdered(t *testing.T) {
	ctx := context.Background()
	d := outboxTestDB(t)
	now := time.Now()
	later := queueTestEmail(t, d, OutboxEmail{NextAttemptAt: now.Add(time.Hour)})
	var due []int64
	for i := 0; i < 5; i++ {
		due = append(due, queueTestEmail(t, d, OutboxEmail{NextAttemptAt: now.Add(-time.Duration(5-i) * time.Second)}))
	}
	got, err := d.ClaimDueEmails(ctx, now, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != due[0] || got[1].ID != due[1] || got[2].ID != due[2] {
		t.Fatalf("claimed %v, want the three most overdue %v", emailIDs(got), due[:3])
	}
	for _, e := range got {
		if e.State != EmailSending || e.Attempts != 1 || e.ClaimedAt.IsZero() {
			t.Fatalf("claimed row not stamped: %+v", e)
		}
	}
	rest, _ := d.ClaimDueEmails(ctx, now, 10)
	if len(rest) != 2 || rest[0].ID != due[3] || rest[1].ID != due[4] {
		t.Fatalf("second claim got %v, want %v (never a row twice, never one not due)", emailIDs(rest), due[3:])
	}
	none, _ := d.ClaimDueEmails(ctx, now, 10)
	if len(none) != 0 {
		t.Fatalf("third claim got %v", emailIDs(none))
	}
	if e, _ := d.GetEmail(ctx, later); e.State != EmailQueued {
		t.Fatalf("not-yet-due email was claimed: %+v", e)
	}
}

func emailIDs(es []OutboxEmail) []int64 {
	var out []int64
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestOutboxOutcomes(t *testing.T) {
	ctx := context.Background()
	d := outboxTestDB(t)
	a := queueTestEmail(t, d, OutboxEmail{InquiryID: "inq_1"})
	b := queueTestEmail(t, d, OutboxEmail{InquiryID: "inq_2"})
	c := queueTestEmail(t, d, OutboxEmail{InquiryID: "inq_2"})
	if _, err := d.ClaimDueEmails(ctx, time.Now(), 10); err != nil {
		t.Fatal(err)
	}
	sentAt := time.UnixMilli(time.Now().UnixMilli())
	if err := d.MarkEmailSent(ctx, a, sentAt); err != nil {
		t.Fatal(err)
	}
	next := time.Now().Add(time.Minute)
	if err := d.MarkEmailRetry(ctx, b, next, "451 try later"); err != nil {
		t.Fatal(err)
	}
	if err := d.MarkEmailFailed(ctx, c, "550 no such user"); err != nil {
		t.Fatal(err)
	}
	ea, _ := d.GetEmail(ctx, a)
	if ea.State != EmailSent || !ea.SentAt.Equal(sentAt) {
		t.Fatalf("sent: %+v", ea)
	}
	eb, _ := d.GetEmail(ctx, b)
	if eb.State != EmailQueued || eb.LastError != "451 try later" || eb.NextAttemptAt.UnixMilli() != next.UnixMilli() || eb.Attempts != 1 {
		t.Fatalf("retry: %+v", eb)
	}
	ec, _ := d.GetEmail(ctx, c)
	if ec.State != EmailFailed || ec.LastError != "550 no such user" {
		t.Fatalf("failed: %+v", ec)
	}
	// Outcomes only apply to a claimed row.
	if err := d.MarkEmailSent(ctx, a, time.Now()); !errors.Is(err, ErrEmailState) {
		t.Fatalf("marking a sent email sent again: %v, want ErrEmailState", err)
	}
	if err := d.MarkEmailRetry(ctx, b, time.Now(), "x"); !errors.Is(err, ErrEmailState) {
		t.Fatalf("retry of a queued email: %v, want ErrEmailState", err)
	}
	if err := d.MarkEmailFailed(ctx, 999, "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing email: %v, want ErrNotFound", err)
	}
	// The final outcomes are in the audit log as the system's entries.
	entries, err := d.ListAudit(ctx, AuditFilter{Action: "email."})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Action != "email.failed" || entries[0].Outcome != "550 no such user" ||
		entries[0].Target != "inq_2" || entries[1].Action != "email.sent" || entries[1].Target != "inq_1" || entries[1].UserID != 0 {
		t.Fatalf("audit entries: %+v", entries)
	}

	// The last email of an inquiry is the newest one queued.
	state, at, err := d.LastEmailState(ctx, "inq_1")
	if err != nil || state != EmailSent || !at.Equal(sentAt) {
		t.Fatalf("last email of inq_1: %q %v %v", state, at, err)
	}
	if state, _, _ := d.LastEmailState(ctx, "inq_2"); state != EmailFailed {
		t.Fatalf("last email of inq_2: %q, want failed", state)
	}
	if state, at, err := d.LastEmailState(ctx, "inq_none"); state != "" || !at.IsZero() || err != nil {
		t.Fatalf("no email: %q %v %v", state, at, err)
	}
	counts, err := d.CountEmailsByState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{EmailQueued: 1, EmailSending: 0, EmailSent: 1, EmailFailed: 1, EmailCanceled: 0}
	for s, n := range want {
		if counts[s] != n {
			t.Fatalf("counts %v, want %v", counts, want)
		}
	}
}

func TestOutboxCancelAndRetryRules(t *testing.T) {
	ctx := context.Background()
	d := outboxTestDB(t)
	cancel := AuditEntry{Actor: "Pat", Action: "email.cancel"}
	retry := AuditEntry{Actor: "Pat", Action: "email.retry"}
	queued := queueTestEmail(t, d, OutboxEmail{})
	if err := d.CancelEmail(ctx, queued, cancel); err != nil {
		t.Fatalf("cancel queued: %v", err)
	}
	if e, _ := d.GetEmail(ctx, queued); e.State != EmailCanceled {
		t.Fatalf("state %s, want canceled", e.State)
	}
	// A canceled email is never claimed.
	if got, _ := d.ClaimDueEmails(ctx, time.Now(), 10); len(got) != 0 {
		t.Fatalf("claimed a canceled email: %v", emailIDs(got))
	}

	sending := queueTestEmail(t, d, OutboxEmail{})
	sent := queueTestEmail(t, d, OutboxEmail{})
	failed := queueTestEmail(t, d, OutboxEmail{})
	d.ClaimDueEmails(ctx, time.Now(), 10)
	d.MarkEmailSent(ctx, sent, time.Now())
	d.MarkEmailFailed(ctx, failed, "550 gone")

	for _, tc := range []struct {
		name string
		id   int64
		want string
	}{
		{"sending", sending, "it is sending"},
		{"sent", sent, "it is sent"},
		{"failed", failed, "it is failed"},
		{"canceled", queued, "it is canceled"},
	} {
		err := d.CancelEmail(ctx, tc.id, cancel)
		if !errors.Is(err, ErrEmailState) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("cancel %s: %v, want ErrEmailState saying %q", tc.name, err, tc.want)
		}
	}
	if err := d.CancelEmail(ctx, 999, cancel); !errors.Is(err, ErrNotFound) {
		t.Errorf("cancel missing: %v", err)
	}

	for _, tc := range []struct {
		name string
		id   int64
	}{{"sending", sending}, {"sent", sent}, {"canceled", queued}} {
		if err := d.RetryEmail(ctx, tc.id, retry); !errors.Is(err, ErrEmailState) {
			t.Errorf("retry %s: %v, want ErrEmailState", tc.name, err)
		}
	}
	if err := d.RetryEmail(ctx, failed, retry); err != nil {
		t.Fatalf("retry failed: %v", err)
	}
	e, _ := d.GetEmail(ctx, failed)
	if e.State != EmailQueued || e.Attempts != 0 || e.NextAttemptAt.After(time.Now()) {
		t.Fatalf("retried: %+v", e)
	}
	got, _ := d.ClaimDueEmails(ctx, time.Now(), 10)
	if len(got) != 1 || got[0].ID != failed {
		t.Fatalf("after retry claimed %v, want [%d]", emailIDs(got), failed)
	}

	// The staff member's entry is written with each change that happened, and with none that
	// was refused.
	for action, want := range map[string]int{"email.cancel": 1, "email.retry": 1} {
		entries, err := d.ListAudit(ctx, AuditFilter{Action: action})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != want || entries[0].Actor != "Pat" {
			t.Errorf("%s audit entries: %+v, want %d by Pat", action, entries, want)
		}
	}
}

func TestOutboxList(t *testing.T) {
	ctx := context.Background()
	d := outboxTestDB(t)
	var made []int64
	for i := 0; i < 5; i++ {
		inq := "inq_1"
		if i%2 == 1 {
			inq = "inq_2"
		}
		made = append(made, queueTestEmail(t, d, OutboxEmail{InquiryID: inq, QueuedBy: 7}))
	}
	d.CancelEmail(ctx, made[4], AuditEntry{Action: "email.cancel"})
	for _, tc := range []struct {
		name string
		f    OutboxFilter
		want []int64
	}{
		{"all newest first", OutboxFilter{}, []int64{made[4], made[3], made[2], made[1], made[0]}},
		{"by inquiry", OutboxFilter{InquiryID: "inq_2"}, []int64{made[3], made[1]}},
		{"by state", OutboxFilter{State: EmailCanceled}, []int64{made[4]}},
		{"page", OutboxFilter{Before: made[3], Limit: 2}, []int64{made[2], made[1]}},
		{"state and inquiry", OutboxFilter{State: EmailQueued, InquiryID: "inq_1"}, []int64{made[2], made[0]}},
	} {
		got, err := d.ListEmails(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if g := emailIDs(got); !slices.Equal(g, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, g, tc.want)
		}
		for _, e := range got {
			if e.QueuedByName != "Ann Agent" {
				t.Errorf("%s: queued-by name %q", tc.name, e.QueuedByName)
			}
		}
	}
}
