package db

import (
	"context"
	"testing"
	"time"
)

func TestOutboxRecoverAndRelease(t *testing.T) {
	ctx := context.Background()
	d := outboxTestDB(t)
	var all []int64
	for i := 0; i < 4; i++ {
		all = append(all, queueTestEmail(t, d, OutboxEmail{}))
	}
	claimed, _ := d.ClaimDueEmails(ctx, time.Now(), 4)
	if len(claimed) != 4 {
		t.Fatalf("claimed %d", len(claimed))
	}
	d.MarkEmailSent(ctx, all[0], time.Now())
	// A worker stopping hands back what it never attempted, uncounted.
	if err := d.ReleaseEmails(ctx, []int64{all[0], all[1]}); err != nil {
		t.Fatal(err)
	}
	if e, _ := d.GetEmail(ctx, all[0]); e.State != EmailSent {
		t.Fatalf("release touched a sent email: %+v", e)
	}
	if e, _ := d.GetEmail(ctx, all[1]); e.State != EmailQueued || e.Attempts != 0 {
		t.Fatalf("released: %+v", e)
	}
	// A crash leaves the other two in 'sending'; recovery hands them back.
	n, err := d.RecoverClaims(ctx)
	if err != nil || n != 2 {
		t.Fatalf("recovered %d, %v; want 2", n, err)
	}
	for _, id := range all[2:] {
		e, _ := d.GetEmail(ctx, id)
		if e.State != EmailQueued || e.LastError != RecoveredNote || e.Attempts != 0 {
			t.Fatalf("recovered: %+v", e)
		}
	}
	if n, _ := d.RecoverClaims(ctx); n != 0 {
		t.Fatalf("second recovery found %d", n)
	}
	got, _ := d.ClaimDueEmails(ctx, time.Now(), 10)
	if len(got) != 3 {
		t.Fatalf("claimable after recovery: %v", emailIDs(got))
	}
}

// TestOutboxRecoveredClaimIsNotAnAttempt: an email that failed once, then was claimed by a
// worker that died (three times over), still counts one attempt and is due at once, not after
// a backoff.
func TestOutboxRecoveredClaimIsNotAnAttempt(t *testing.T) {
	ctx := context.Background()
	d := outboxTestDB(t)
	id := queueTestEmail(t, d, OutboxEmail{})
	if got, _ := d.ClaimDueEmails(ctx, time.Now(), 1); len(got) != 1 {
		t.Fatalf("claimed %d", len(got))
	}
	// One real failure: the server said 451; due again now.
	if err := d.MarkEmailRetry(ctx, id, time.Now(), "451 try later"); err != nil {
		t.Fatal(err)
	}
	for crash := 1; crash <= 3; crash++ {
		got, err := d.ClaimDueEmails(ctx, time.Now(), 1) // ...and then the process died
		if err != nil || len(got) != 1 || got[0].Attempts != 2 {
			t.Fatalf("crash %d: claimed %+v, %v (want one email on its 2nd attempt)", crash, got, err)
		}
		before := time.Now()
		if n, err := d.RecoverClaims(ctx); err != nil || n != 1 {
			t.Fatalf("crash %d: recovered %d, %v", crash, n, err)
		}
		e, err := d.GetEmail(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if e.State != EmailQueued || e.Attempts != 1 {
			t.Fatalf("crash %d: after recovery %s with %d attempts, want queued with 1 (the crash is not an attempt)", crash, e.State, e.Attempts)
		}
		if e.NextAttemptAt.After(before.Add(time.Second)) {
			t.Fatalf("crash %d: due at %v, want at once (no backoff for a crash)", crash, e.NextAttemptAt)
		}
	}
}
