package db

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCandidatesCheckAgreesWithIndex: a search found from each word's rarest trigram and
// checked in Go finds exactly the rows the index's own match finds, whatever the case, accents,
// spelled-out letters, short words or quotes typed.
func TestCandidatesCheckAgreesWithIndex(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "words.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	first := strings.Fields(`María Maria Mariana José Jose Søren Łukasz Anna Ana Zoë Ærin Chloé Dmitri Ðorđe Ömer`)
	last := strings.Fields(`García Garcés Garcia Smith Smithers Straße Żółć Kierkegaard O'Brien "Quoted" Núñez Lopez Þórsdóttir`)
	rng := rand.New(rand.NewPCG(7, 8))
	at := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	var people [][2]string
	tx, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		f, l := first[rng.IntN(len(first))], last[rng.IntN(len(last))]
		people = append(people, [2]string{f, l})
		q := Inquiry{ID: fmt.Sprintf("inq_w%05d", i), ReferenceID: fmt.Sprintf("REF-%d", rng.IntN(100000)), Name: f + " " + l,
			Email: strings.ToLower(f) + "." + fmt.Sprint(rng.IntN(99)) + "@acme.example", Status: "approved",
			CreatedAt: at.Add(time.Duration(i) * time.Second), UpdatedAt: at, VersionAt: at}
		if _, err := UpsertInquiry(ctx, tx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// Part of a word, in any case: its start, its end, one or two letters, or all of it.
	part := func(w string) string {
		rs := []rune(w)
		i := rng.IntN(len(rs))
		j := min(len(rs), i+1+rng.IntN(5))
		if rng.IntN(3) == 0 {
			i = 0
		}
		s := string(rs[i:j])
		if rng.IntN(2) == 0 {
			s = strings.ToUpper(s)
		}
		return s
	}
	l := NewLister(d, nil)
	checked, found := 0, 0
	for range 120 {
		// Mostly parts of one person's names, so that many searches find someone.
		p, o := people[rng.IntN(len(people))], people[rng.IntN(len(people))]
		search := part(p[0]) + " " + part(p[1])
		switch rng.IntN(4) {
		case 0:
			search += " " + part(o[rng.IntN(2)])
		case 1:
			search = part(p[rng.IntN(2)]) // one word
		}
		f := ListFilter{Search: search}
		f.normalize()
		want, err := l.matches(ctx, f.match, len(people)+1)
		if err != nil {
			t.Fatalf("%q: %v", search, err)
		}
		ns := needles(search)
		_, few, err := l.candidates(ctx, ns, planCap)
		few = few && len(ns) > 1 // gather asks for candidates only for several words
		if err != nil {
			t.Fatalf("%q: %v", search, err)
		}
		g, ok, err := l.gather(ctx, &f)
		if err != nil || !ok {
			t.Fatalf("%q: %v (broad %v)", search, err, !ok)
		}
		var got []int64
		for _, r := range g.rows {
			got = append(got, r.rowid)
		}
		slices.Sort(got)
		if few {
			checked++
		}
		if len(want) > 0 {
			found++
		}
		if !slices.Equal(got, want) {
			t.Errorf("search %q (checked from candidates: %v): %d rows, the index matches %d", search, few, len(got), len(want))
		}
	}
	if checked < 40 || found < 45 {
		t.Fatalf("only %d searches checked, %d with matches: the test checks too little", checked, found)
	}
}
