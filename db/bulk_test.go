package db

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// A job paused while its last row was in flight is done when that row settles (before, it
// stayed paused, and once resumed "running" with nothing left, never done); a second click on
// Pause changes nothing and is not audited again.
func TestBulkJobStateAroundItsLastRow(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "bulk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	id, _, err := d.CreateBulkJob(ctx, BulkJob{Name: "cohort.csv", TemplateID: "itmpl_x"},
		[]BulkRow{{Line: 2, ReferenceID: "usr_1", Input: "{}", Class: "ready", Key: "k1", State: RowPending}}, AuditEntry{Action: "bulk.start"})
	if err != nil {
		t.Fatal(err)
	}
	_, row, _, err := d.NextBulkRow(ctx, time.Now(), time.Minute)
	if err != nil || row == nil {
		t.Fatalf("next row: %v %v", row, err)
	}
	for i, want := range []bool{true, false} {
		changed, err := d.SetBulkJobState(ctx, id, BulkPaused, AuditEntry{Action: "bulk.pause"})
		if err != nil || changed != want {
			t.Fatalf("pause #%d: changed %v, %v; want %v", i+1, changed, err, want)
		}
	}
	if audits, _ := d.ListAudit(ctx, AuditFilter{Action: "bulk.pause"}); len(audits) != 1 {
		t.Errorf("%d pause audits, want 1", len(audits))
	}
	if _, err := d.SetBulkJobState(ctx, id, BulkDone, AuditEntry{}); err == nil {
		t.Error("a job was set done without settling its rows")
	}
	done, err := d.FinishBulkRow(ctx, BulkRow{JobID: id, Line: 2, State: "created", Detail: "Created."}, AuditEntry{Action: "bulk.done"})
	if err != nil || !done {
		t.Fatalf("the last row settled: job done %v, %v", done, err)
	}
	if j, _ := d.GetBulkJob(ctx, id); j.State != BulkDone {
		t.Errorf("job is %s, want done", j.State)
	}
}
