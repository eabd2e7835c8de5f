package db

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestUpdateNeverBlanks: a newer copy that leaves something out (a webhook on a newer Persona
// version sends no top-level PII; one with relationships turned off names no template) keeps
// what the cache holds; only a redaction clears it.
func TestUpdateNeverBlanks(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "noblank.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	save := func(q Inquiry) {
		t.Helper()
		if _, err := d.SaveInquiry(ctx, q, AuditEntry{}); err != nil {
			t.Fatal(err)
		}
	}
	save(Inquiry{ID: "inq_nb", ReferenceID: "usr_1", TemplateID: "itmpl_1", Status: "created", Name: "Ada Lovelace", Email: "ada@example.com",
		Fields: map[string]string{"name-first": "Ada", "birthdate": "1815-12-10"}, Note: "vip", Tags: []string{"web"}, CreatedAt: t0, UpdatedAt: t0, VersionAt: t0})
	// The ID says more of the name.
	save(Inquiry{ID: "inq_nb", ReferenceID: "usr_1", TemplateID: "itmpl_1", Status: "completed", Name: "Ada King Lovelace", Email: "ada@example.com",
		Fields: map[string]string{"name-first": "Ada"}, Note: "vip", Tags: []string{"web"}, CreatedAt: t0, UpdatedAt: at(1), VersionAt: at(1)})
	// A webhook that sends only the status and a field of its own.
	save(Inquiry{ID: "inq_nb", Status: "approved", Fields: map[string]string{"selected-country-code": "GB"},
		NoteNotSent: true, TagsNotSent: true, CreatedAt: t0, UpdatedAt: at(2), VersionAt: at(2)})
	q, err := d.GetInquiry(ctx, "inq_nb")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"name-first": "Ada", "birthdate": "1815-12-10", "selected-country-code": "GB"}
	if q.Status != "approved" || q.Name != "Ada Lovelace" || q.IDName != "Ada King Lovelace" || q.Email != "ada@example.com" ||
		q.ReferenceID != "usr_1" || q.TemplateID != "itmpl_1" || q.Note != "vip" || !reflect.DeepEqual(q.Tags, []string{"web"}) ||
		!reflect.DeepEqual(q.Fields, want) {
		t.Errorf("after a sparse update: %+v", q)
	}
	// Tags and note that are sent, even empty, are applied.
	save(Inquiry{ID: "inq_nb", Status: "approved", Tags: []string{}, CreatedAt: t0, UpdatedAt: at(3), VersionAt: at(3)})
	if q, _ = d.GetInquiry(ctx, "inq_nb"); q.Note != "" || len(q.Tags) != 0 || q.Email != "ada@example.com" {
		t.Errorf("note %q, tags %v, email %q after note and tags were cleared", q.Note, q.Tags, q.Email)
	}
	// A redaction clears the PII.
	save(Inquiry{ID: "inq_nb", Status: "approved", RedactedAt: at(4), CreatedAt: t0, UpdatedAt: at(4), VersionAt: at(4)})
	if q, _ = d.GetInquiry(ctx, "inq_nb"); q.Name != "" || q.IDName != "" || q.Email != "" || len(q.Fields) != 0 {
		t.Errorf("after redaction: name %q, id name %q, email %q, fields %v", q.Name, q.IDName, q.Email, q.Fields)
	}
}
