package db

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/model"
)

// TestWritersShareFreshnessRule checks that webhook apply, sync and refresh (SaveInquiry)
// all write an incoming copy exactly when model.Version.Newer says it is newer than the
// cached one, for every pair of statuses at the same and at different version times.
func TestWritersShareFreshnessRule(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	statuses := append([]model.Status{"paused"}, model.Statuses...)
	writers := map[string]func(row Inquiry) bool{
		"webhook": func(row Inquiry) bool {
			ev := WebhookEvent{ID: "evt_" + row.ID + string(row.Status), Name: "inquiry.x", InquiryID: row.ID, EventAt: row.VersionAt, ReceivedAt: time.Now(), Payload: "{}"}
			if _, err := d.StoreWebhookEvents(ctx, []WebhookEvent{ev}, nil); err != nil {
				t.Fatal(err)
			}
			v, _, err := d.ApplyWebhookEvents(ctx, []EventApply{{ev, &row}})
			if err != nil {
				t.Fatal(err)
			}
			return v[0] == VerdictApplied
		},
		"sync": func(row Inquiry) bool {
			changed, _, err := d.SaveSynced(ctx, []Inquiry{row}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			return len(changed) == 1
		},
		"refresh": func(row Inquiry) bool {
			ok, err := d.SaveInquiry(ctx, row, AuditEntry{})
			if err != nil {
				t.Fatal(err)
			}
			return ok
		},
	}
	n := 0
	for name, write := range writers {
		for _, cached := range statuses {
			for _, incoming := range statuses {
				for _, dt := range []time.Duration{-time.Millisecond, 0, time.Millisecond} {
					n++
					id := fmt.Sprintf("inq_%d", n)
					old := Inquiry{ID: id, Status: cached, CreatedAt: t0, UpdatedAt: t0, VersionAt: t0}
					if _, err := d.SaveInquiry(ctx, old, AuditEntry{}); err != nil {
						t.Fatal(err)
					}
					at := t0.Add(dt)
					row := Inquiry{ID: id, Status: incoming, Name: "new", CreatedAt: t0, UpdatedAt: at, VersionAt: at}
					want := model.Version{At: at, Status: incoming}.Newer(model.Version{At: t0, Status: cached})
					wrote := write(row)
					q, err := d.GetInquiry(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					if wrote != want || (q.Status == incoming && q.Name == "new") != want {
						t.Errorf("%s: cached %s, incoming %s at %+v: wrote %v (row now %s %q), rule says %v",
							name, cached, incoming, dt, wrote, q.Status, q.Name, want)
					}
				}
			}
		}
	}
}
