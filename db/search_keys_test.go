package db

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"
)

// TestSearchKeysFollowWrites: with the keys kept in memory, a search filtered by status and its
// counts follow every kind of write at once: a webhook's upsert, a sync that adds an inquiry, a
// delete, a write by another process (another handle on the file), and a change log pruned
// past what the copy has read.
func TestSearchKeysFollowWrites(t *testing.T) {
	d, now := searchDB(t)
	ctx := context.Background()
	windowStart, windowBudget = 4, 4 // read whole, as a narrow search in a big cache is
	t.Cleanup(func() { windowStart, windowBudget = 512, 1<<16 })
	l := newLister(t, d, true)
	check := func(step string, status string, want []string, counts map[string]int64) {
		t.Helper()
		if got := searchIDs(t, l, ListFilter{Search: "garc", Statuses: []string{status}}); !slices.Equal(got, want) {
			t.Errorf("%s: %s matches %v, want %v", step, status, got, want)
		}
		l.mu.Lock()
		clear(l.countCache) // counts kept from the page are the same read; read them afresh
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

	// Changes the copy has not read, pruned from the log: it reads the table again.
	if _, err := d.W.ExecContext(ctx, `UPDATE inquiries SET status = 'expired' WHERE id = 'inq_maria'`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.W.ExecContext(ctx, `UPDATE inquiries SET status = 'failed' WHERE id = 'inq_gab'`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.W.ExecContext(ctx, `DELETE FROM inquiry_key_changes WHERE seq < (SELECT max(seq) FROM inquiry_key_changes)`); err != nil {
		t.Fatal(err)
	}
	check("after the log was pruned", "expired", []string{"inq_maria"}, map[string]int64{"expired": 1, "failed": 1})
}

// TestSearchPagesThroughTies: inquiries created in the same millisecond are paged by id, both
// ways, when a search is read whole (the kept keys carry no id, so the page's rows are cut
// from a few more candidates).
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
	for _, mem := range []bool{false, true} {
		for _, f := range []ListFilter{{Search: "a"}, {Search: "e", Statuses: []string{"approved"}}, {Search: "a", Sort: SortUpdated}} {
			f.Now, f.Limit = now, 9
			want := expected(all, f)
			l := newLister(t, d, mem)
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
				t.Fatalf("memory %t, %+v: %d rows, want %d", mem, f, len(got), len(want))
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
				t.Fatalf("memory %t, %+v: walking back gave %d rows, want %d", mem, f, len(back), len(want)-lastLen)
			}
		}
	}
}
