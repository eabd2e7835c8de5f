package db

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A row a worker held when its job was cancelled, and never recorded (the worker stopped), is
// settled once its lease has run out, saying its outcome is not known, and audited with the
// job's totals; a row still held is left to its worker.
func TestAbandonedRowOfCancelledJobSettled(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "bulk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	id, _, err := d.CreateBulkJob(ctx, BulkJob{Name: "c.csv", TemplateID: "itmpl_x"}, []BulkRow{
		{Line: 2, ReferenceID: "usr_1", Input: "{}", Class: "ready", Key: "k1", State: RowPending},
		{Line: 3, ReferenceID: "usr_2", Input: "{}", Class: "ready", Key: "k2", State: RowPending},
	}, AuditEntry{Action: "bulk.start"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, _, _, err := d.NextBulkRow(ctx, now, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SetBulkJobState(ctx, id, BulkCancelled, AuditEntry{Action: "bulk.cancel"}); err != nil {
		t.Fatal(err)
	}
	state := func() (s string) {
		d.R.QueryRowContext(ctx, `SELECT state || ': ' || detail FROM bulk_rows WHERE job_id = ? AND line = 2`, id).Scan(&s)
		return s
	}
	noErr := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	noErr(d.SettleAbandonedBulkRows(ctx, now.Add(30*time.Second), AuditEntry{Action: "bulk.done"}))
	if s := state(); s != "pending: " {
		t.Fatalf("a row still held: %q", s)
	}
	noErr(d.SettleAbandonedBulkRows(ctx, now.Add(2*time.Minute), AuditEntry{Action: "bulk.done"}))
	if s := state(); !strings.HasPrefix(s, "cancelled: Not known whether it was created") {
		t.Errorf("the abandoned row: %q", s)
	}
	var audit string
	noErr(d.R.QueryRowContext(ctx, `SELECT detail FROM audit_log WHERE action = 'bulk.done'`).Scan(&audit))
	if audit != "Cancelled; with the rows in flight then ended: 2 cancelled" {
		t.Errorf("audit %q", audit)
	}
}
