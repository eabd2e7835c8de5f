package db

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/model"
)

// searchDB is a cache of a few people, written as webhooks and the UI write them.
func searchDB(t *testing.T) (*DB, time.Time) {
	t.Helper()
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "search.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	for i, p := range [][4]string{
		{"inq_john", "usr_ABC123", "John Smith", "john.smith@acme.example"},
		{"inq_maria", "CUST-0001001", "María García", "maria.garcia@gmail.com"},
		{"inq_mariana", "CUST-0001002", "Mariana Lopez", "ml@globex.example"},
		{"inq_jose", "CUST-0002001", "José Garcés", "jg@outlook.com"},
		{"inq_ana", "CUST-0002002", "Ana Smithers", "ana@example.org"},
	} {
		at := now.Add(time.Duration(i) * time.Minute)
		status := model.Approved
		if i%2 == 1 {
			status = model.Pending
		}
		q := Inquiry{ID: p[0], ReferenceID: p[1], Name: p[2], Email: p[3], Status: status, CreatedAt: at, UpdatedAt: at, VersionAt: at}
		if _, err := UpsertInquiry(ctx, d.W, q); err != nil {
			t.Fatal(err)
		}
	}
	return d, now
}

func searchIDs(t *testing.T, l *Lister, f ListFilter) []string {
	t.Helper()
	p, err := l.List(context.Background(), f)
	if err != nil {
		t.Fatalf("search %q: %v", f.Search, err)
	}
	ids := idsOf(p)
	slices.Sort(ids)
	return ids
}

func TestSearchFindsPeople(t *testing.T) {
	d, _ := searchDB(t)
	l := NewLister(d, nil)
	for _, c := range []struct {
		search   string
		statuses []string
		want     []string
	}{
		{"Smith", nil, []string{"inq_ana", "inq_john"}}, // a surname, and inside one
		{"smith john", nil, []string{"inq_john"}},       // several words narrow, in any order
		{"garcia", nil, []string{"inq_maria"}},          // accents folded
		{"GARC", nil, []string{"inq_jose", "inq_maria"}},
		{"garcés", nil, []string{"inq_jose"}},
		{"maria garcia", nil, []string{"inq_maria"}},
		{"maria", nil, []string{"inq_maria", "inq_mariana"}},
		{"acme.example", nil, []string{"inq_john"}}, // an email domain
		{"example", nil, []string{"inq_ana", "inq_john", "inq_mariana"}},
		{"ABC123", nil, []string{"inq_john"}}, // a reference ID fragment
		{"1001", nil, []string{"inq_maria"}},
		{"cust-00020", nil, []string{"inq_ana", "inq_jose"}},
		{"smith", []string{"approved"}, []string{"inq_ana", "inq_john"}},
		{"garc", []string{"approved"}, nil},
		{"garc", []string{"pending"}, []string{"inq_jose", "inq_maria"}},
		{"example", []string{"pending", "created"}, nil},
		// One or two characters: the start of a word of the name, of the email or of the reference ID.
		{"ga", nil, []string{"inq_maria", "inq_jose"}},
		{"Sm", nil, []string{"inq_ana", "inq_john"}},
		{"mi", nil, nil}, // inside "Smith", not at a word's start
		{"us", nil, []string{"inq_john"}},
		{"j", nil, []string{"inq_john", "inq_jose"}},
		{"g", nil, []string{"inq_jose", "inq_maria"}},
		{"ml", nil, []string{"inq_mariana"}},
		{"á", nil, []string{"inq_ana"}},
		{"maria l", nil, []string{"inq_mariana"}},
		{"zzz", nil, nil},
	} {
		want := slices.Clone(c.want)
		slices.Sort(want)
		if got := searchIDs(t, l, ListFilter{Search: c.search, Statuses: c.statuses}); !slices.Equal(got, want) {
			t.Errorf("search %q (statuses %v): %v, want %v", c.search, c.statuses, got, want)
		}
	}
}

// TestSearchSyntaxIsText types FTS5's syntax into the search: each is searched as text, never
// an error, under every plan.
func TestSearchSyntaxIsText(t *testing.T) {
	d, _ := searchDB(t)
	ctx := context.Background()
	cases := map[string][]string{
		`"`: nil, `""`: nil, `"smith"`: nil, `smith"`: nil, `*`: nil, `smi*`: nil, `-`: nil, `-smith`: nil,
		// NEAR is a word like any other: "smith NEAR john" needs "near" too, which no one has.
		`NEAR`: nil, `NEAR(smith john)`: nil, `smith NEAR john`: nil, `smith john`: {"inq_john"}, `^`: nil, `^smith`: nil,
		`":"`: nil, `name:smith`: nil, `name : smith`: nil, `smith OR garcia`: nil, `NOT`: nil, `AND`: nil,
		`(`: nil, `)`: nil, `{name}`: nil, `+`: nil, `'`: nil, `%`: nil, `_`: nil, `\`: nil,
		`john.smith@acme.example`: {"inq_john"}, `usr_abc`: {"inq_john"},
	}
	for _, caps := range []int{3000, 0} {
		planCap = caps
		for search, want := range cases {
			got := searchIDs(t, NewLister(d, nil), ListFilter{Search: search})
			if !slices.Equal(got, want) {
				t.Errorf("search %q (plan cap %d): %v, want %v", search, caps, got, want)
			}
			if _, err := NewLister(d, nil).Counts(ctx, ListFilter{Search: search}); err != nil {
				t.Errorf("counts for %q: %v", search, err)
			}
			if _, err := NewLister(d, nil).Matches(ctx, ListFilter{Search: search}, "inq_john"); err != nil {
				t.Errorf("matches for %q: %v", search, err)
			}
		}
	}
	planCap = 3000
}

// TestSearchFollowsWrites changes a person's name and email through the writers the webhooks,
// the sync and the UI use: the search finds the new ones, not the old ones.
func TestSearchFollowsWrites(t *testing.T) {
	d, now := searchDB(t)
	ctx := context.Background()
	l := NewLister(d, nil)
	find := func(search string) []string { return searchIDs(t, l, ListFilter{Search: search}) }

	q, err := d.GetInquiry(ctx, "inq_maria")
	if err != nil {
		t.Fatal(err)
	}
	// A completed flow: the name read from the ID.
	q.Name, q.Email, q.VersionAt, q.Status = "Alexander J Sample", "alex@sample.example", now.Add(time.Hour), "completed"
	if _, err := UpsertInquiry(ctx, d.W, *q); err != nil {
		t.Fatal(err)
	}
	// Both names are found: the one staff typed, kept, and the one read from the ID.
	if got := find("garcia"); !slices.Equal(got, []string{"inq_maria"}) {
		t.Errorf("typed name after the flow: %v", got)
	}
	if got := find("sample"); !slices.Equal(got, []string{"inq_maria"}) {
		t.Errorf("name from the ID: %v", got)
	}
	if got, _ := d.GetInquiry(ctx, "inq_maria"); got.Name != "María García" || got.IDName != "Alexander J Sample" {
		t.Errorf("stored names %q / %q, want the typed one and the ID's", got.Name, got.IDName)
	}
	// A stale update is not written, so it does not reach the index either.
	stale := *q
	stale.Name, stale.VersionAt = "Stale Name", now
	if _, err := UpsertInquiry(ctx, d.W, stale); err != nil {
		t.Fatal(err)
	}
	if got := find("stale"); len(got) != 0 {
		t.Errorf("stale update found: %v", got)
	}

	// The reconciler's write, and a row it did not know.
	j, err := d.GetInquiry(ctx, "inq_john")
	if err != nil {
		t.Fatal(err)
	}
	j.Name, j.Email, j.ReferenceID, j.VersionAt = "Jonathan Smythe", "jon@smythe.example", "usr_XYZ789", now.Add(time.Hour)
	newRow := Inquiry{ID: "inq_new", ReferenceID: "CUST-0009999", Name: "Zoë Öztürk", Status: "created", CreatedAt: now, UpdatedAt: now, VersionAt: now}
	if _, _, err := d.SaveSynced(ctx, []Inquiry{*j, newRow}, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for search, want := range map[string][]string{
		"smith": {"inq_ana", "inq_john"}, "abc123": nil, "smythe": {"inq_john"}, "xyz789": {"inq_john"},
		"zoe ozturk": {"inq_new"}, "9999": {"inq_new"},
	} {
		if got := find(search); !slices.Equal(got, want) {
			t.Errorf("after sync, %q: %v, want %v", search, got, want)
		}
	}

	// A deleted row leaves the index; a backup (VACUUM INTO) keeps it in step.
	if _, err := d.W.ExecContext(ctx, `DELETE FROM inquiries WHERE id = 'inq_ana'`); err != nil {
		t.Fatal(err)
	}
	if got := find("smithers"); len(got) != 0 {
		t.Errorf("deleted row found: %v", got)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := d.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := searchIDs(t, NewLister(b, nil), ListFilter{Search: "smythe"}); !slices.Equal(got, []string{"inq_john"}) {
		t.Errorf("backup: %v", got)
	}
}

// TestSearchMigrationBackfills opens a cache written before migration 008: its rows are found.
func TestSearchMigrationBackfills(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	w, err := sql.Open("sqlite", dsn(path, false, DefaultOptions))
	if err != nil {
		t.Fatal(err)
	}
	old := &DB{W: w}
	if err := old.migrate(ctx, 7); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	if _, err := w.ExecContext(ctx, `INSERT INTO inquiries (id, reference_id, name, status, created_at, updated_at, version_at, synced_at)
		VALUES ('inq_old', 'usr_OLD42', 'Renée Lefèvre', 'approved', ?, ?, ?, ?)`, now, now, now, now); err != nil {
		t.Fatal(err)
	}
	w.Close()
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if got := searchIDs(t, NewLister(d, nil), ListFilter{Search: "lefevre"}); !slices.Equal(got, []string{"inq_old"}) {
		t.Errorf("backfilled row: %v", got)
	}
}

// TestRedactionClearsBothNames: a redacted inquiry keeps neither the typed name nor the ID's.
func TestRedactionClearsBothNames(t *testing.T) {
	d, now := searchDB(t)
	ctx := context.Background()
	q, _ := d.GetInquiry(ctx, "inq_maria")
	q.Name, q.VersionAt = "Alexander J Sample", now.Add(time.Hour)
	if _, err := UpsertInquiry(ctx, d.W, *q); err != nil {
		t.Fatal(err)
	}
	q.Name, q.Email, q.RedactedAt, q.VersionAt = "", "", now, now.Add(2*time.Hour)
	if _, err := UpsertInquiry(ctx, d.W, *q); err != nil {
		t.Fatal(err)
	}
	got, _ := d.GetInquiry(ctx, "inq_maria")
	if got.Name != "" || got.IDName != "" {
		t.Errorf("after redaction: %q / %q, want both empty", got.Name, got.IDName)
	}
	for _, s := range []string{"garcia", "sample"} {
		if ids := searchIDs(t, NewLister(d, nil), ListFilter{Search: s}); len(ids) != 0 {
			t.Errorf("%q still finds %v after redaction", s, ids)
		}
	}
}
