package db

import (
	"context"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/internal/seed"
	"github.com/linkdesk/linkdesk/model"
)

// TestSearchGatheredPages reads narrow searches whole (the window walk made to give up at once):
// every page, forwards and back, under both sorts, with statuses and other filters, agrees with
// a brute-force filter and sort, and the counts kept from that read are exact.
func TestSearchGatheredPages(t *testing.T) {
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	d, all := seededDB(t, 2500, now)
	ctx := context.Background()
	windowStart, windowBudget = 4, 4
	t.Cleanup(func() { windowStart, windowBudget = 512, 1<<16 })
	for name, f := range map[string]ListFilter{
		"surname":              {Search: "garcia"},
		"two words":            {Search: "maria g"},
		"email domain":         {Search: "initech"},
		"surname, one status":  {Search: "lopez", Statuses: []string{"approved"}},
		"surname, statuses":    {Search: "a m", Statuses: []string{"expired", "declined", "created"}},
		"surname and template": {Search: "martin", TemplateID: seed.Templates[0].ID},
		"surname and creator":  {Search: "silva", CreatedBy: 3}, // some rows have no creator
		"search, range":        {Search: "gmail", CreatedFrom: now.Add(-20 * 24 * time.Hour), CreatedTo: now.Add(-5 * 24 * time.Hour)},
		"search, expiring":     {Search: "an", ExpiringBefore: now.Add(24 * time.Hour)},
	} {
		for _, sort := range []string{SortCreated, SortUpdated} {
			f.Sort, f.Now, f.Limit = sort, now, 7
			want := expected(all, f)
			l := NewLister(d, nil)
			var got []string
			var last *ListPage
			g := f
			for range 1000 {
				p, err := l.List(ctx, g)
				if err != nil {
					t.Fatal(err)
				}
				if p.Plan != "search" {
					t.Fatalf("%s: plan %s, want the gathered search", name, p.Plan)
				}
				got, last = append(got, idsOf(p)...), p
				if p.Older.IsZero() {
					break
				}
				g.After = p.Older
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s by %s: %d rows %v, want %d %v", name, sort, len(got), got, len(want), want)
			}
			if len(want) > f.Limit {
				var back []string
				g := f
				g.Before = last.Newer
				for !g.Before.IsZero() {
					p, err := l.List(ctx, g)
					if err != nil {
						t.Fatal(err)
					}
					back = append(slices.Clone(idsOf(p)), back...)
					g.Before = p.Newer
				}
				if n := len(last.Rows); !slices.Equal(back, want[:len(want)-n]) {
					t.Fatalf("%s by %s: walking back gave %v, want %v", name, sort, back, want[:len(want)-n])
				}
			}
			// The counts of the filter's other conditions, from the same read, and read afresh.
			cf := f
			cf.Statuses = nil
			truth := map[string]int64{}
			for _, id := range expected(all, cf) {
				for _, r := range all {
					if r.id == id {
						truth[r.status]++
					}
				}
			}
			for _, l := range []*Lister{l, NewLister(d, nil)} {
				c, err := l.Counts(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if c.Capped || !maps.Equal(c.N, truth) {
					t.Errorf("%s by %s: counts %v (capped %t), want %v", name, sort, c.N, c.Capped, truth)
				}
			}
		}
	}
}

// TestSearchCountsDescribeTheirPage: the counts shown beside a narrow search's page are of the
// rows that page was read from (one read of the index for both), and follow a change as soon
// as the hub publishes it.
func TestSearchCountsDescribeTheirPage(t *testing.T) {
	d, now := searchDB(t)
	ctx := context.Background()
	windowStart, windowBudget = 4, 4 // read whole, as a narrow search in a big cache is
	t.Cleanup(func() { windowStart, windowBudget = 512, 1<<16 })
	var published atomic.Uint64 // the hub's version
	l := NewLister(d, published.Load)
	f := ListFilter{Search: "garc"}
	p, err := l.List(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if got := idsOf(p); len(got) != 2 {
		t.Fatalf("page %v, want José and María", got)
	}
	// José is approved just after the page was read; the hub has not published it yet.
	q, err := d.GetInquiry(ctx, "inq_jose")
	if err != nil {
		t.Fatal(err)
	}
	q.Status, q.VersionAt = model.Approved, now.Add(time.Hour)
	if _, err := UpsertInquiry(ctx, d.W, *q); err != nil {
		t.Fatal(err)
	}
	c, err := l.Counts(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if c.N["pending"] != 2 || c.Total(nil) != 2 || c.Capped {
		t.Errorf("counts beside the page: %v, want the page's 2 pending rows", c.N)
	}
	// Published, the change moves the hub's version: the counts follow it at once.
	published.Add(1)
	if c, err = l.Counts(ctx, f); err != nil {
		t.Fatal(err)
	}
	if c.N["pending"] != 1 || c.N["approved"] != 1 {
		t.Errorf("counts after the change: %v, want one pending and one approved", c.N)
	}
}

// TestSearchBroadCountsCapped: a broad search alone is counted over its first SearchCountCap
// matches (the ones it just read to find it broad), said as a lower bound. Counted again, a
// status changed since is counted as it is now, and a match renamed away is replaced by the next.
func TestSearchBroadCountsCapped(t *testing.T) {
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	d, all := seededDB(t, 4000, now)
	ctx := context.Background()
	planCap = SearchCountCap + 100
	t.Cleanup(func() { planCap = 3000 })
	f := ListFilter{Search: "com", Now: now} // most mailbox providers
	// The counts of the first SearchCountCap matches in rowid order, as the index returns them.
	truth := func(all []plainRow) (map[string]int64, []plainRow) {
		want := map[string]int64{}
		var matches []plainRow
		for _, r := range all {
			if searchMatches(r, f.Search) {
				if len(matches) < SearchCountCap {
					want[r.status]++
				}
				matches = append(matches, r)
			}
		}
		if len(matches) <= planCap {
			t.Fatalf("%d matches: not broad enough for the test", len(matches))
		}
		return want, matches
	}
	count := func(l *Lister) map[string]int64 {
		t.Helper()
		l.mu.Lock()
		clear(l.kept) // as if the counts kept had grown stale
		l.mu.Unlock()
		c, err := l.Counts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Capped {
			t.Errorf("counts %v not capped", c.N)
		}
		return c.N
	}
	for i := range 2 {
		l := NewLister(d, nil)
		want, matches := truth(all)
		if got := count(l); !maps.Equal(got, want) {
			t.Errorf("round %d: counts %v, want %v", i, got, want)
		}
		first := matches[0]
		to := []string{"declined", "approved"}[i]
		if first.status == to {
			to = "expired"
		}
		if _, err := d.W.ExecContext(ctx, "UPDATE inquiries SET status = ? WHERE id = ?", to, first.id); err != nil {
			t.Fatal(err)
		}
		all = plainRows(t, d)
		if want, _ = truth(all); !maps.Equal(count(l), want) {
			t.Errorf("round %d, after %s turned %s: counts %v, want %v", i, first.id, to, count(l), want)
		}
		if _, err := d.W.ExecContext(ctx, "UPDATE inquiries SET email = 'renamed@example.org', reference_id = 'REN-' || rowid, name = 'Renamed Person' WHERE id = ?", first.id); err != nil {
			t.Fatal(err)
		}
		all = plainRows(t, d)
		if want, _ = truth(all); !maps.Equal(count(l), want) {
			t.Errorf("round %d, after %s was renamed: counts %v, want %v", i, first.id, count(l), want)
		}
		// One that did not match, early in rowid order, renamed so that it does.
		var other plainRow
		for _, r := range all {
			if !searchMatches(r, f.Search) && r.status != "approved" {
				other = r
				break
			}
		}
		if other.id == "" {
			t.Fatalf("round %d: no row left that the search does not match", i)
		}
		if _, err := d.W.ExecContext(ctx, "UPDATE inquiries SET email = 'found@example.com' WHERE id = ?", other.id); err != nil {
			t.Fatal(err)
		}
		all = plainRows(t, d)
		if want, _ = truth(all); !maps.Equal(count(l), want) {
			t.Errorf("round %d, after %s was renamed to match: counts %v, want %v", i, other.id, count(l), want)
		}
	}
}
