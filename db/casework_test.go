package db

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestAssignedAndNotesFilters: the list's "Assigned to" filter and a search for a word of a
// note find exactly the inquiries a plain scan finds, whichever way in the planner takes, and
// their counts agree; editing or deleting a note takes its words out of the search.
func TestAssignedAndNotesFilters(t *testing.T) {
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	d, all := seededDB(t, 3000, now)
	ctx := context.Background()
	var users []int64
	rows, err := d.R.QueryContext(ctx, `SELECT id FROM users ORDER BY id LIMIT 2`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		users = append(users, id)
	}
	rows.Close()
	assigned := map[string]int64{}
	noted := map[string]bool{}
	var noteIDs []int64
	for i, r := range all {
		if i%7 == 0 {
			u := users[i%2]
			if _, _, err := d.SetAssignment(ctx, r.id, u, 0, now, func(int64) AuditEntry { return AuditEntry{Action: "inquiry.assign"} }); err != nil {
				t.Fatal(err)
			}
			assigned[r.id] = u
		}
		if i%13 == 0 {
			id, err := d.AddNote(ctx, Note{InquiryID: r.id, Author: "Ada", Body: "Spoke to them.\nZanzibar office", CreatedAt: now}, AuditEntry{Action: "note.add"})
			if err != nil {
				t.Fatal(err)
			}
			noted[r.id] = true
			noteIDs = append(noteIDs, id)
		}
	}
	want := func(keep func(plainRow) bool) []string {
		var out []string
		for _, r := range all {
			if keep(r) {
				out = append(out, r.id)
			}
		}
		slices.Sort(out)
		return out
	}
	check := func(name string, l *Lister, f ListFilter, exp []string) {
		t.Helper()
		var got []string
		f.Limit, f.Now = 50, now
		for {
			p, err := l.List(ctx, f)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got = append(got, idsOf(p)...)
			if p.Older.IsZero() {
				break
			}
			f.After = p.Older
		}
		slices.Sort(got)
		if !slices.Equal(got, exp) {
			t.Fatalf("%s: %d rows, want %d", name, len(got), len(exp))
		}
		c, err := l.Counts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if n := c.Total(f.Statuses); !c.Capped && n != int64(len(exp)) {
			t.Fatalf("%s: counted %d, want %d", name, n, len(exp))
		}
	}
	for _, pc := range []int{3000, 20} { // the assignments drive, or a walk in order checks them
		old := planCap
		planCap = pc
		{
			l := NewLister(d, nil)
			check("assigned", l, ListFilter{AssignedTo: users[0]}, want(func(r plainRow) bool { return assigned[r.id] == users[0] }))
			check("assigned+status", l, ListFilter{AssignedTo: users[1], Statuses: []string{"pending"}},
				want(func(r plainRow) bool { return assigned[r.id] == users[1] && r.status == "pending" }))
			check("note word", l, ListFilter{Search: "zanzibar"}, want(func(r plainRow) bool { return noted[r.id] }))
			check("note word start", l, ListFilter{Search: "za"}, want(func(r plainRow) bool { return noted[r.id] || searchMatches(r, "za") }))
			check("note+assigned", l, ListFilter{Search: "zanzibar", AssignedTo: users[0]},
				want(func(r plainRow) bool { return noted[r.id] && assigned[r.id] == users[0] }))
		}
		planCap = old
	}
	// An edit and a delete take the note's words out of the search.
	if err := d.EditNote(ctx, noteIDs[0], "Nothing to see", now, AuditEntry{Action: "note.edit"}); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteNote(ctx, noteIDs[1], AuditEntry{Action: "note.delete"}); err != nil {
		t.Fatal(err)
	}
	l := NewLister(d, nil)
	check("after edit and delete", l, ListFilter{Search: "zanzibar"}, want(func(r plainRow) bool { return noted[r.id] && r.id != all[0].id && r.id != all[13].id }))
}
