package inquiry

import (
	"context"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/internal/testkit"
	"github.com/linkdesk/linkdesk/model"
)

// A template with bad values is refused in words by field and nothing is stored; a good one is
// stored with its audit entry, and removing it is audited too.
func TestSaveAndDeleteTemplate(t *testing.T) {
	ctx := context.Background()
	d := testkit.OpenDB(t)
	svc := New(d, Settings{}, testkit.Discard(), Deps{})
	ada := model.Actor{ID: testkit.AddUser(t, d, "ada@example.com", model.Admin, "correct horse battery"), Name: "Ada"}

	errs, err := svc.SaveTemplate(ctx, ada, db.Template{ID: "tmpl_1", Name: "", ReminderDays: "1;3"})
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"id", "name", "reminder_days"} {
		if errs[field] == "" {
			t.Errorf("no error for %s: %v", field, errs)
		}
	}
	if ts, _ := d.Templates(ctx); len(ts) != 0 {
		t.Fatalf("a refused template was stored: %+v", ts)
	}

	if errs, err := svc.SaveTemplate(ctx, ada, db.Template{ID: "itmpl_kyc", Name: "KYC", IsDefault: true, ReminderDays: "1,3"}); err != nil || len(errs) > 0 {
		t.Fatalf("save: %v %v", errs, err)
	}
	if ts, _ := d.Templates(ctx); len(ts) != 1 || ts[0].Name != "KYC" || !ts[0].IsDefault || ts[0].ReminderDays != "1,3" {
		t.Fatalf("templates after save: %+v", ts)
	}
	if err := svc.DeleteTemplate(ctx, ada, "itmpl_kyc"); err != nil {
		t.Fatal(err)
	}
	if ts, _ := d.Templates(ctx); len(ts) != 0 {
		t.Fatalf("templates after delete: %+v", ts)
	}
	es, err := d.ListAudit(ctx, db.AuditFilter{Target: "itmpl_kyc", Action: "template."})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Action != "template.remove" || es[1].Action != "template.save" || es[1].Actor != "Ada" || es[1].UserID != ada.ID {
		t.Fatalf("audit: %+v", es)
	}
}
