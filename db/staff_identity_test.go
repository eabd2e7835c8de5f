package db

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// TestStaffMigrationKeepsTheOutbox opens an outbox written before migration 022 (which rebuilds
// the table for the 'staff' kind): its emails, their request keys and the indexes survive, and
// staff emails can be queued.
func TestStaffMigrationKeepsTheOutbox(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	w, err := sql.Open("sqlite", dsn(path, false, DefaultOptions))
	if err != nil {
		t.Fatal(err)
	}
	old := &DB{W: w}
	if err := old.migrate(ctx, 17); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	if _, err := w.ExecContext(ctx, `INSERT INTO outbox (kind, recipient, subject, body_text, body_html, state, next_attempt_at, message_id, queued_at, request_key)
		VALUES ('link', 'pat@example.com', 'Verify', 'text', 'html', 'sent', ?, '<m1@x>', ?, 'key-1')`, now, now); err != nil {
		t.Fatal(err)
	}
	w.Close()
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	e, err := d.EmailByRequestKey(ctx, "key-1")
	if err != nil || e.Recipient != "pat@example.com" || e.State != EmailSent {
		t.Fatalf("the old email after the migration: %+v %v", e, err)
	}
	var idx int
	d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN ('outbox_due', 'outbox_inquiry', 'outbox_request_key')`).Scan(&idx)
	if idx != 3 {
		t.Errorf("outbox indexes after the migration: %d, want 3", idx)
	}
	if _, err := d.AddEmail(ctx, OutboxEmail{Kind: "staff", Recipient: "new@example.com", Subject: "s", BodyText: "t", BodyHTML: "h"}, AuditEntry{Action: "user.invite"}); err != nil {
		t.Errorf("queue a staff email: %v", err)
	}
}

// TestStaffEmailBodyDroppedOnceSent: an invitation or reset link stays in the outbox only until
// the mail server accepts it; link emails keep their body (the send log shows it).
func TestStaffEmailBodyDroppedOnceSent(t *testing.T) {
	ctx := context.Background()
	d := outboxTestDB(t)
	staffID, err := d.AddEmail(ctx, OutboxEmail{Kind: "staff", Recipient: "cy@example.com", Subject: "Invited", BodyText: "https://x/invite?token=secret", BodyHTML: "<a>secret</a>"}, AuditEntry{Action: "user.invite"})
	if err != nil {
		t.Fatal(err)
	}
	linkID, _ := d.AddEmail(ctx, OutboxEmail{Kind: "link", Recipient: "pat@example.com", Subject: "Verify", BodyText: "https://x/verify", BodyHTML: "<a>verify</a>"}, AuditEntry{Action: "email.queue"})
	claimed, err := d.ClaimDueEmails(ctx, time.Now(), 10)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %d %v", len(claimed), err)
	}
	for _, id := range []int64{staffID, linkID} {
		if err := d.MarkEmailSent(ctx, id, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if e, _ := d.GetEmail(ctx, staffID); e.BodyText != StaffBodySent || e.BodyHTML != StaffBodySent {
		t.Errorf("the staff email kept its link after sending: %q %q", e.BodyText, e.BodyHTML)
	}
	if e, _ := d.GetEmail(ctx, linkID); e.BodyText != "https://x/verify" {
		t.Errorf("a link email lost its body: %q", e.BodyText)
	}
}
