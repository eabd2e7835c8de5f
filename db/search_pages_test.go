package db

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"
)

// TestSearchFollowsEveryWriter: a search filtered by status and its counts follow every kind
// of write at once: a webhook's upsert, a sync that adds an inquiry, a delete, and a write by
// another process (another handle on the file).
func TestSearchFollowsEveryWriter(t *testing.T) {
	d, now := searchDB(t)
	ctx := context.Background()
	windowStart, windowBudget = 4, 4 // read whole, as a narrow search in a big cache is
	t.Cleanup(func() { windowStart, windowBudget = 512, 1<<16 })
	l := NewLister(d, nil)
	check := func(step string, status string, want []string, counts map[string]int64) {
		t.Helper()
		if got := searchIDs(t, l, ListFilter{Search: "garc", Statuses: []string{status}}); !slices.Equal(got, want) {
			t.Errorf("%s: %s matches %v, want %v", step, status, got, want)
		}
		l.mu.Lock()
		clear(l.kept) // counts kept from the page are the same read; read them afresh
		l.mu.Unlock()
		c, err := l.Counts(ctx, ListFilter{Search: "garc"})
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(c.N, counts) {
			t.Errorf("%s: counts %v, want %v", step, c.N, counts)
		}
	}
	check("at first", "pending", []string{"inq_jose", "inq_maria"}, map[string]int64{"pending": 2})

	q, err := d.GetInquiry(ctx, "inq_maria")
	if err != nil {
		t.Fatal(err)
	}
	q.Status, q.VersionAt, q.UpdatedAt = "approved", now.Add(time.Hour), now.Add(time.Hour)
	if _, err := UpsertInquiry(ctx, d.W, *q); err != nil {
		t.Fatal(err)
	}
	check("after a webhook", "approved", []string{"inq_maria"}, map[string]int64{"pending": 1, "approved": 1})

	added := Inquiry{ID: "inq_gab", ReferenceID: "CUST-0003001", Name: "Gabriel García", Status: "approved", CreatedAt: now, UpdatedAt: now, VersionAt: now}
	if _, _, err := d.SaveSynced(ctx, []Inquiry{added}, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	check("after a sync", "approved", []string{"inq_gab", "inq_maria"}, map[string]int64{"pending": 1, "approved": 2})

	if _, err := d.W.ExecContext(ctx, `DELETE FROM inquiries WHERE id = 'inq_jose'`); err != nil {
		t.Fatal(err)
	}
	check("after a delete", "pending", nil, map[string]int64{"approved": 2})

	other, err := Open(ctx, d.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.W.ExecContext(ctx, `UPDATE inquiries SET status = 'declined' WHERE id = 'inq_gab'`); err != nil {
		t.Fatal(err)
	}
	check("after another process", "declined", []string{"inq_gab"}, map[string]int64{"approved": 1, "declined": 1})
}

// TestSearchPagesThroughTies: inquiries created in the same millisecond are paged by id, both
// ways, when a search is read whole (its matches are read with their sort keys but no id, so
// the page's rows are cut from a few more candidates).
func TestSearchPagesThroughTies(t *testing.T) {
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	d, _ := seededDB(t, 600, now)
	ctx := context.Background()
	// Most of them in a handful of milliseconds.
	if _, err := d.W.ExecContext(ctx, `UPDATE inquiries SET created_at = ? + rowid % 4, updated_at = ? + rowid % 3 WHERE rowid % 5 > 0`,
		now.Add(-time.Hour).UnixMilli(), now.Add(-time.Minute).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	all := plainRows(t, d)
	windowStart, windowBudget = 4, 4 // read whole
	t.Cleanup(func() { windowStart, windowBudget = 512, 1<<16 })
	for _, f := range []ListFilter{{Search: "a"}, {Search: "e", Statuses: []string{"approved"}}, {Search: "a", Sort: SortUpdated}} {
		f.Now, f.Limit = now, 9
		want := expected(all, f)
		l := NewLister(d, nil)
		var got []string
		var last *ListPage
		for g := f; ; {
			p, err := l.List(ctx, g)
			if err != nil {
				t.Fatal(err)
			}
			got, last = append(got, idsOf(p)...), p
			if p.Older.IsZero() {
				break
			}
			g.After = p.Older
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%+v: %d rows, want %d", f, len(got), len(want))
		}
		var back []string
		lastLen := len(last.Rows)
		for g, p := f, last; !p.Newer.IsZero(); {
			g.Before = p.Newer
			var err error
			if p, err = l.List(ctx, g); err != nil {
				t.Fatal(err)
			}
			back = append(slices.Clone(idsOf(p)), back...)
		}
		if !slices.Equal(back, want[:len(want)-lastLen]) {
			t.Fatalf("%+v: walking back gave %d rows, want %d", f, len(back), len(want)-lastLen)
		}
	}
}

// TestSearchPageWhenACandidateMoved: the page is cut from candidates chosen by the sort keys
// read before it; when a candidate's sort key has moved it past the cursor since (a webhook between
// the two reads), the page still has its full size and says there are older rows.
func TestSearchPageWhenACandidateMoved(t *testing.T) {
	d, now := searchDB(t)
	ctx := context.Background()
	for i, id := range []string{"inq_zed", "inq_yan", "inq_xi"} {
		at := now.Add(-time.Duration(i+1) * time.Hour)
		q := Inquiry{ID: id, ReferenceID: "CUST-900" + id[4:], Name: "Zed Example", Email: id[4:] + "@initech.example",
			Status: "approved", CreatedAt: at, UpdatedAt: at, VersionAt: at}
		if _, err := UpsertInquiry(ctx, d.W, q); err != nil {
			t.Fatal(err)
		}
	}
	windowStart, windowBudget = 1, 1 // read whole
	t.Cleanup(func() { windowStart, windowBudget = 512, 1<<16 })
	l := NewLister(d, nil)
	f := ListFilter{Search: "example", Sort: SortUpdated, Limit: 1, Now: now}
	all := searchPages(t, l, f)
	if len(all) < 4 {
		t.Fatalf("%d matches, want 4 or more: %v", len(all), all)
	}
	p1, err := l.List(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	// The next page's row is updated (moving it to the top, before the cursor) between the
	// read of the matches and the page's.
	moved := all[1]
	betweenReads = func() {
		if _, err := d.W.ExecContext(ctx, "UPDATE inquiries SET updated_at = ? WHERE id = ?", now.Add(48*time.Hour).UnixMilli(), moved); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { betweenReads = nil })
	g := f
	g.After = p1.Older
	p2, err := l.List(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	if got := idsOf(p2); p2.Plan != "search" || !slices.Equal(got, all[2:3]) || p2.Older.IsZero() {
		t.Errorf("page 2 (plan %s): %v (older page %t), want %v and an older page", p2.Plan, got, !p2.Older.IsZero(), all[2:3])
	}
}

// searchPages lists every page of a search and returns its ids in order.
func searchPages(t *testing.T, l *Lister, f ListFilter) []string {
	t.Helper()
	var ids []string
	for {
		p, err := l.List(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, idsOf(p)...)
		if p.Older.IsZero() {
			return ids
		}
		f.After = p.Older
	}
}
