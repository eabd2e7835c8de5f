package db

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/linkdesk/linkdesk/internal/seed"
)

type plainRow struct {
	id, ref, status, name, email, template string
	creator                                int64
	created, updated, expires              int64
}

func seededDB(t *testing.T, n int, now time.Time) (*DB, []plainRow) {
	t.Helper()
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "list.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := seed.Inquiries(ctx, d.W, seed.Options{N: n, Now: now, Span: 40 * 24 * time.Hour, Users: 6, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	return d, plainRows(t, d)
}

// plainRows reads every inquiry as the brute-force checks see it.
func plainRows(t *testing.T, d *DB) []plainRow {
	t.Helper()
	rows, err := d.R.QueryContext(context.Background(), `SELECT id, reference_id, status, name, email, template_id, COALESCE(created_by, 0), created_at, updated_at, COALESCE(expires_at, 0) FROM inquiries`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var all []plainRow
	for rows.Next() {
		var r plainRow
		if err := rows.Scan(&r.id, &r.ref, &r.status, &r.name, &r.email, &r.template, &r.creator, &r.created, &r.updated, &r.expires); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	return all
}

// fold ignores case and the accents the seed uses, as the search index does.
var fold = func() func(string) string {
	r := strings.NewReplacer("á", "a", "à", "a", "ã", "a", "é", "e", "è", "e", "ê", "e", "ë", "e", "í", "i",
		"ó", "o", "ô", "o", "ö", "o", "ú", "u", "ü", "u", "ç", "c", "ñ", "n")
	return func(s string) string { return r.Replace(strings.ToLower(s)) }
}()

// searchMatches is the search rule, said plainly: every word matches the reference ID, the name
// or the email; three characters or more anywhere in them, fewer at the start of the reference
// ID, of the email or of a word of the name.
func searchMatches(r plainRow, search string) bool {
	for _, w := range strings.Fields(fold(search)) {
		ref, name, email := fold(r.ref), fold(r.name), fold(r.email)
		var ok bool
		if utf8.RuneCountInString(w) >= 3 {
			ok = strings.Contains(ref, w) || strings.Contains(name, w) || strings.Contains(email, w)
		} else {
			ok = strings.HasPrefix(ref, w) || strings.HasPrefix(email, w) ||
				slices.ContainsFunc(strings.Split(name, " "), func(n string) bool { return strings.HasPrefix(n, w) })
		}
		if !ok {
			return false
		}
	}
	return true
}

// expected filters and sorts by brute force: what every plan must agree with.
func expected(all []plainRow, f ListFilter) []string {
	var out []plainRow
	for _, r := range all {
		switch {
		case len(f.Statuses) > 0 && !slices.Contains(f.Statuses, r.status),
			f.TemplateID != "" && r.template != f.TemplateID,
			f.CreatedBy != 0 && r.creator != f.CreatedBy,
			!f.CreatedFrom.IsZero() && r.created < f.CreatedFrom.UnixMilli(),
			!f.CreatedTo.IsZero() && r.created >= f.CreatedTo.UnixMilli(),
			!f.ExpiringBefore.IsZero() && !(slices.Contains(PersonWorkStatuses, r.status) && r.expires >= f.Now.UnixMilli() && r.expires < f.ExpiringBefore.UnixMilli()),
			!searchMatches(r, f.Search):
			continue
		}
		out = append(out, r)
	}
	key := func(r plainRow) int64 {
		if f.Sort == SortUpdated {
			return r.updated
		}
		return r.created
	}
	slices.SortFunc(out, func(a, b plainRow) int {
		if c := key(b) - key(a); c != 0 {
			if c > 0 {
				return 1
			}
			return -1
		}
		return strings.Compare(b.id, a.id)
	})
	ids := make([]string, len(out))
	for i, r := range out {
		ids[i] = r.id
	}
	return ids
}

// TestListMatchesBruteForce walks every page of many filter combinations, forwards and back,
// under each way in (the caps lowered so a small table reaches every plan), and compares with
// a brute-force filter and sort.
func TestListMatchesBruteForce(t *testing.T) {
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	d, all := seededDB(t, 3000, now)
	ctx := context.Background()
	day := 24 * time.Hour
	t1, t2 := seed.Templates[0].ID, seed.Templates[1].ID
	filters := map[string]ListFilter{
		"everything":          {},
		"one status":          {Statuses: []string{"pending"}},
		"several statuses":    {Statuses: []string{"created", "pending", "needs_review"}},
		"big statuses":        {Statuses: []string{"approved", "expired"}},
		"template":            {TemplateID: t2},
		"creator":             {CreatedBy: 3},
		"creation range":      {CreatedFrom: now.Add(-20 * day), CreatedTo: now.Add(-10 * day)},
		"range from":          {CreatedFrom: now.Add(-3 * day)},
		"expiring":            {ExpiringBefore: now.Add(day)},
		"reference prefix":    {Search: "cust-00012"},
		"reference fragment":  {Search: "0123"},
		"name prefix":         {Search: "Ma"},
		"email prefix":        {Search: "jo"},
		"one letter":          {Search: "a"},
		"no match":            {Search: "zzzz"},
		"surname":             {Search: "garcia"},
		"accented surname":    {Search: "GARCÍA"},
		"rare surname":        {Search: "castaneda"},
		"two words":           {Search: "maria g"},
		"email domain":        {Search: "acme.example"},
		"fts syntax":          {Search: `"ma" * - NEAR ^ ":" (a OR b)`},
		"status and template": {Statuses: []string{"approved"}, TemplateID: t1},
		"all equalities":      {Statuses: []string{"declined", "failed"}, TemplateID: t1, CreatedBy: 2},
		"search and status":   {Statuses: []string{"approved", "needs_review"}, Search: "e"},
		"broad, one status":   {Statuses: []string{"approved"}, Search: "ma"},
		"surname, one status": {Statuses: []string{"expired"}, Search: "garcia"},
		"everything at once":  {Statuses: []string{"approved", "completed"}, TemplateID: t1, CreatedBy: 4, CreatedFrom: now.Add(-30 * day), CreatedTo: now.Add(-2 * day), Search: "a"},
		"expiring and search": {ExpiringBefore: now.Add(day), Search: "m"},
		"unknown status":      {Statuses: []string{"archived"}},
		"old status range":    {Statuses: []string{"approved"}, CreatedFrom: now.Add(-35 * day), CreatedTo: now.Add(-30 * day)},
		"old creator range":   {CreatedBy: 3, CreatedFrom: now.Add(-38 * day), CreatedTo: now.Add(-25 * day)},
	}
	plans := map[string]bool{}
	t.Cleanup(func() { planCap, rangeCap, windowStart, windowBudget, windowSpan = 3000, 20000, 512, 1<<16, 1<<16 })
	// The second caps also make search windows small and the walk give up early.
	for _, caps := range [][5]int{{3000, 20000, 512, 1 << 16, 1 << 16}, {5, 5, 4, 40, 16}} {
		planCap, rangeCap, windowStart, windowBudget, windowSpan = caps[0], caps[1], caps[2], caps[3], int64(caps[4])
		for name, f := range filters {
			for _, sort := range []string{SortCreated, SortUpdated} {
				f := f
				f.Sort, f.Now, f.Limit = sort, now, 37
				want := expected(all, f)
				l := NewLister(d, nil)
				var got []string
				var pages []*ListPage
				g := f
				for range 200 {
					p, err := l.List(ctx, g)
					if err != nil {
						t.Fatalf("%s/%s: %v", name, sort, err)
					}
					plans[strings.TrimSuffix(p.Plan, "+range")] = true
					plans[p.Plan] = true
					pages = append(pages, p)
					for _, r := range p.Rows {
						got = append(got, r.ID)
					}
					if p.Older.IsZero() {
						break
					}
					g.After = p.Older
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%s by %s (caps %v, plans %s): %d rows, want %d", name, sort, caps, pages[0].Plan, len(got), len(want))
				}
				if len(pages) > 1 {
					if !pages[0].Newer.IsZero() {
						t.Errorf("%s: the first page has a newer page", name)
					}
					// Back up from the last page with Newer cursors.
					var back []string
					g := f
					g.Before = pages[len(pages)-1].Newer
					for {
						p, err := l.List(ctx, g)
						if err != nil {
							t.Fatal(err)
						}
						back = append(slices.Clone(idsOf(p)), back...)
						if p.Newer.IsZero() {
							break
						}
						g.Before = p.Newer
					}
					if lastLen := len(pages[len(pages)-1].Rows); !slices.Equal(back, want[:len(want)-lastLen]) {
						t.Fatalf("%s by %s: walking back gave %d rows, want %d", name, sort, len(back), len(want)-lastLen)
					}
				}
			}
		}
	}
	for _, p := range []string{"order", "status", "template", "creator", "search", "expiring", "order+range", "status+range", "creator+range",
		"order+window", "status+window"} {
		if !plans[p] {
			t.Errorf("plan %s never used; used %v", p, plans)
		}
	}
}

func idsOf(p *ListPage) []string {
	out := make([]string, len(p.Rows))
	for i, r := range p.Rows {
		out[i] = r.ID
	}
	return out
}

func TestCountsMatchBruteForce(t *testing.T) {
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	d, all := seededDB(t, 2500, now)
	ctx := context.Background()
	for name, f := range map[string]ListFilter{
		"everything":          {},
		"template+creator":    {TemplateID: seed.Templates[0].ID, CreatedBy: 2},
		"range":               {CreatedFrom: now.Add(-72 * time.Hour)},
		"expiring":            {ExpiringBefore: now.Add(24 * time.Hour)},
		"search":              {Search: "a"},
		"search and template": {Search: "m", TemplateID: seed.Templates[1].ID},
		"surname":             {Search: "lopez"},
		"surname and creator": {Search: "martinez", CreatedBy: 3},
		"broad and template":  {Search: "gmail", TemplateID: seed.Templates[3].ID},
		"email domain, range": {Search: "initech", CreatedFrom: now.Add(-20 * 24 * time.Hour)},
		"search, expiring":    {Search: "an", ExpiringBefore: now.Add(24 * time.Hour)},
	} {
		f.Now = now
		c, err := NewLister(d, nil).Counts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{}
		for _, id := range expected(all, f) {
			for _, r := range all {
				if r.id == id {
					want[r.status]++
				}
			}
		}
		var total int64
		for _, n := range want {
			total += n
		}
		if c.Capped {
			if c.Total(nil) > total {
				t.Errorf("%s: capped counts %v exceed the truth %v", name, c.N, want)
			}
			continue
		}
		if len(c.N) != len(want) {
			t.Errorf("%s: counts %v, want %v", name, c.N, want)
		}
		for s, n := range want {
			if c.N[s] != n {
				t.Errorf("%s: %s counted %d, want %d", name, s, c.N[s], n)
			}
		}
	}
}

// TestCountsTableFollowsWrites checks the triggers: inserts, status changes and upserts keep
// inquiry_counts equal to a real count.
func TestCountsTableFollowsWrites(t *testing.T) {
	now := time.Now()
	d, _ := seededDB(t, 300, now)
	ctx := context.Background()
	q := Inquiry{ID: "inq_counts1", Status: "created", TemplateID: seed.Templates[0].ID, CreatedAt: now, UpdatedAt: now, VersionAt: now}
	if _, err := UpsertInquiry(ctx, d.W, q); err != nil {
		t.Fatal(err)
	}
	q.Status, q.VersionAt = "approved", now.Add(time.Second)
	if _, err := UpsertInquiry(ctx, d.W, q); err != nil {
		t.Fatal(err)
	}
	if _, err := d.W.ExecContext(ctx, `DELETE FROM inquiries WHERE id IN (SELECT id FROM inquiries WHERE status = 'expired' LIMIT 3)`); err != nil {
		t.Fatal(err)
	}
	rows, err := d.R.QueryContext(ctx, `SELECT c.status, c.template_id, c.created_by, c.n, (SELECT count(*) FROM inquiries i
		WHERE i.status = c.status AND i.template_id = c.template_id AND COALESCE(i.created_by, 0) = c.created_by) FROM inquiry_counts c`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s, tmpl string
		var by, n, real int64
		rows.Scan(&s, &tmpl, &by, &n, &real)
		if n != real {
			t.Errorf("counts table says %d for %s/%s/%d, the table holds %d", n, s, tmpl, by, real)
		}
	}
}

// TestListPlansUseIndexes asks SQLite how it runs each plan's query: never a scan of the
// table, and the walks never sort (they read the index in order).
func TestListPlansUseIndexes(t *testing.T) {
	now := time.Now()
	d, _ := seededDB(t, 200, now)
	ctx := context.Background()
	for name, c := range map[string]struct {
		p    plan
		f    ListFilter
		sort bool // a sort is expected
	}{
		"order":         {plan{driver: "order"}, ListFilter{}, false},
		"order updated": {plan{driver: "order"}, ListFilter{Sort: SortUpdated}, false},
		"status":        {plan{driver: "status"}, ListFilter{Statuses: []string{"pending"}, TemplateID: "x", CreatedBy: 1}, false},
		"statuses":      {plan{driver: "status"}, ListFilter{Statuses: []string{"pending", "created"}}, true}, // merging a few pages only
		"template":      {plan{driver: "template"}, ListFilter{TemplateID: "x", Statuses: []string{"approved"}, Sort: SortUpdated}, false},
		"creator":       {plan{driver: "creator"}, ListFilter{CreatedBy: 2, CreatedFrom: now.Add(-time.Hour)}, false},

		"search walk": {plan{driver: "status"}, ListFilter{Search: "garcia", Statuses: []string{"approved"}}, false},
		"expiring":    {plan{driver: "expiring"}, ListFilter{ExpiringBefore: now.Add(time.Hour)}, true},
		"range":       {plan{driver: "creator", sortRange: true}, ListFilter{CreatedBy: 2, CreatedFrom: now.Add(-time.Hour), CreatedTo: now, Sort: SortUpdated}, true},
	} {
		f := c.f
		f.normalize()
		query, args := f.keysQuery(c.p)
		rows, err := d.R.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var lines []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			rows.Scan(&id, &parent, &unused, &detail)
			lines = append(lines, detail)
		}
		rows.Close()
		plan := strings.Join(lines, "; ")
		for _, l := range lines {
			if (l == "SCAN i" || strings.HasPrefix(l, "SCAN i ")) && !strings.Contains(l, "USING") {
				t.Errorf("%s scans the table: %s", name, plan)
			}
		}
		if sorts := strings.Contains(plan, "TEMP B-TREE FOR ORDER BY"); sorts && !c.sort {
			t.Errorf("%s sorts instead of walking an index: %s", name, plan)
		}
	}
}
