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
	l := NewLister(d)
	keep, stop := context.WithCancel(ctx)
	kept := make(chan struct{})
	go func() {
		defer close(kept)
		l.KeepSearchKeys(keep, func(err error) { t.Errorf("search keys: %v", err) })
	}()
	defer func() { stop(); <-kept }() // the keeper is done before the file closes
	loaded := func(step string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !l.keysReady(); time.Sleep(5 * time.Millisecond) { // polling with a deadline
			if time.Now().After(deadline) {
				t.Fatalf("%s: search keys not loaded", step)
			}
		}
	}
	loaded("at start")
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
	// The keeper reads the copy whole again, and searches use it as before.
	loaded("after the log was pruned")
	if _, err := d.W.ExecContext(ctx, `UPDATE inquiries SET status = 'approved' WHERE id = 'inq_gab'`); err != nil {
		t.Fatal(err)
	}
	check("after reading the table again", "approved", []string{"inq_gab"}, map[string]int64{"expired": 1, "approved": 1})
	if !l.keysReady() {
		t.Error("the copy read again was not used")
	}
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

// TestSearchPageWhenACandidateMoved: the page is cut from candidates chosen by the keys read
// before it; when a candidate's sort key has moved it past the cursor since (a webhook between
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
	l := newLister(t, d, true)
	f := ListFilter{Search: "example", Sort: SortUpdated, Limit: 1, Now: now}
	all := searchPages(t, l, f)
	if len(all) < 4 {
		t.Fatalf("%d matches, want 4 or more: %v", len(all), all)
	}
	p1, err := l.List(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	// The next page's row is updated (moving it to the top, before the cursor), and the copy
	// is made to miss it, as if the change came between its catch-up and the page's read.
	moved := all[1]
	if _, err := d.W.ExecContext(ctx, "UPDATE inquiries SET updated_at = ? WHERE id = ?", now.Add(48*time.Hour).UnixMilli(), moved); err != nil {
		t.Fatal(err)
	}
	l.keys.mu.Lock()
	if err := d.R.QueryRowContext(ctx, "SELECT max(seq) FROM inquiry_key_changes").Scan(&l.keys.seq); err != nil {
		t.Fatal(err)
	}
	l.keys.mu.Unlock()
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

// TestSearchKeysRefuseSparseRowids: a copy by rowid of a table whose rowids are far sparser
// than its rows is not made, and says so; searches still answer, from the table.
func TestSearchKeysRefuseSparseRowids(t *testing.T) {
	d, now := searchDB(t)
	ctx := context.Background()
	if _, err := d.W.ExecContext(ctx, `INSERT INTO inquiries (rowid, id, reference_id, status, name, email, created_at, updated_at, synced_at)
		VALUES (5000000, 'inq_far', 'CUST-9', 'approved', 'Far Smith', 'far@example.org', ?, ?, ?)`, now.UnixMilli(), now.UnixMilli(), now.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	l := NewLister(d)
	if err := l.LoadSearchKeys(ctx); err == nil || l.keysReady() {
		t.Fatalf("loaded a copy of rowids up to 5,000,000 for 5 inquiries (error %v)", err)
	}
	windowStart, windowBudget = 4, 4
	t.Cleanup(func() { windowStart, windowBudget = 512, 1<<16 })
	if got := searchIDs(t, l, ListFilter{Search: "smith", Statuses: []string{"approved"}, Now: now}); !slices.Equal(got, []string{"inq_ana", "inq_far", "inq_john"}) {
		t.Errorf("search from the table: %v", got)
	}
}

// keysReady reports whether searches may use the copy.
func (l *Lister) keysReady() bool {
	l.keys.mu.RLock()
	defer l.keys.mu.RUnlock()
	return l.keys.ready
}
