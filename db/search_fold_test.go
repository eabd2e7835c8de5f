package db

import (
	"context"
	"database/sql"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestSearchFoldsLetters: letters that do not decompose are found as people type them without
// the key for them, and typed with it too; the index and the query fold alike.
func TestSearchFoldsLetters(t *testing.T) {
	d, now := searchDB(t)
	ctx := context.Background()
	for i, p := range [][3]string{
		{"inq_soren", "Søren Kierkegaard", "soren@example.dk"},
		{"inq_aesir", "Æsir Odinsdottir", "ae@example.is"},
		{"inq_eda", "Eða Þórsdóttir", "eda@example.is"},
		{"inq_lukasz", "Łukasz Żółć", "lz@example.pl"},
		{"inq_strasse", "Anna Straße", "anna@example.de"},
	} {
		at := now.Add(time.Duration(i+10) * time.Minute)
		q := Inquiry{ID: p[0], ReferenceID: "REF-" + p[0], Name: p[1], Email: p[2], Status: "approved", CreatedAt: at, UpdatedAt: at, VersionAt: at}
		if _, err := UpsertInquiry(ctx, d.W, q); err != nil {
			t.Fatal(err)
		}
	}
	l := NewLister(d, nil)
	for search, want := range map[string]string{
		"soren": "inq_soren", "Søren": "inq_soren", "SØREN KIER": "inq_soren",
		"aesir": "inq_aesir", "Æsir": "inq_aesir", "ae": "inq_aesir",
		"eda": "inq_eda", "Eða": "inq_eda", "thorsdottir": "inq_eda",
		"lukasz zolc": "inq_lukasz", "Łukasz Żółć": "inq_lukasz", "l": "inq_lukasz",
		"strasse": "inq_strasse", "straße": "inq_strasse",
	} {
		if got := searchIDs(t, l, ListFilter{Search: search}); !slices.Contains(got, want) || len(got) > 2 {
			t.Errorf("search %q: %v, want %s", search, got, want)
		}
	}
	if got := Fold("Søren Æsir Eða Łukasz Straße"); got != "soren aesir eda lukasz strasse" {
		t.Errorf("Fold: %q", got)
	}
}

// TestSearchByInquiryID: an inquiry id pasted into the search finds that inquiry, with the
// other filters still applied, and its counts say so.
func TestSearchByInquiryID(t *testing.T) {
	d, now := searchDB(t)
	ctx := context.Background()
	l := NewLister(d, nil)
	if got := searchIDs(t, l, ListFilter{Search: " inq_maria "}); !slices.Equal(got, []string{"inq_maria"}) {
		t.Errorf("inq_maria: %v", got)
	}
	if got := searchIDs(t, l, ListFilter{Search: "inq_maria", Statuses: []string{"approved"}}); len(got) != 0 {
		t.Errorf("inq_maria (pending) among approved: %v", got)
	}
	if got := searchIDs(t, l, ListFilter{Search: "inq_nobody"}); len(got) != 0 {
		t.Errorf("an unknown id: %v", got)
	}
	c, err := l.Counts(ctx, ListFilter{Search: "inq_maria", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(c.N, map[string]int64{"pending": 1}) {
		t.Errorf("counts %v, want one pending", c.N)
	}
	ok, err := l.Matches(ctx, ListFilter{Search: "inq_maria"}, "inq_john")
	if err != nil || ok {
		t.Errorf("inq_john matches a search for inq_maria (%v)", err)
	}
}

// TestSearchIndexKeepsItsRowids: the search index is keyed by inquiries' rowids, which are not
// an INTEGER PRIMARY KEY, so a rebuild of the table that does not copy them (a migration's
// INSERT INTO new SELECT ... without rowid) or a VACUUM that renumbered them would point the
// index at other rows. Rows written at migration 030, with gaps in their rowids, go through
// every later migration and a VACUUM: each is still found by its own name and reference ID,
// and migration 031's folding reaches them.
func TestSearchIndexKeepsItsRowids(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	w, err := sql.Open("sqlite", dsn(path, false, DefaultOptions))
	if err != nil {
		t.Fatal(err)
	}
	old := &DB{W: w}
	if err := old.migrate(ctx, 30); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	people := [][3]string{
		{"inq_r1", "Alma Quist", "REF-R1"}, {"inq_r2", "Bruno Vesk", "REF-R2"}, {"inq_r3", "Søren Wulff", "REF-R3"},
		{"inq_r4", "Dora Xylo", "REF-R4"}, {"inq_r5", "Emil Yarrow", "REF-R5"}, {"inq_r6", "Fenna Zorn", "REF-R6"},
	}
	for _, p := range people {
		if _, err := w.ExecContext(ctx, `INSERT INTO inquiries (id, reference_id, name, status, created_at, updated_at, version_at, synced_at)
			VALUES (?, ?, ?, 'approved', ?, ?, ?, ?)`, p[0], p[2], p[1], now, now, now, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.ExecContext(ctx, `DELETE FROM inquiries WHERE id IN ('inq_r2', 'inq_r4')`); err != nil {
		t.Fatal(err)
	}
	w.Close()
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.W.ExecContext(ctx, "VACUUM"); err != nil {
		t.Fatal(err)
	}
	l := NewLister(d, nil)
	for _, p := range people {
		var want []string
		if p[0] != "inq_r2" && p[0] != "inq_r4" {
			want = []string{p[0]}
		}
		for _, search := range []string{p[1], p[2]} {
			if got := searchIDs(t, l, ListFilter{Search: search}); !slices.Equal(got, want) {
				t.Errorf("search %q: %v, want %v (the index no longer points at its rows)", search, got, want)
			}
		}
	}
	if got := searchIDs(t, l, ListFilter{Search: "soren"}); !slices.Equal(got, []string{"inq_r3"}) {
		t.Errorf("soren, written before migration 031: %v", got)
	}
}
