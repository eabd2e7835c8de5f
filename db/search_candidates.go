// Search candidates: the index finds the rows that may match, gather checks their text.

package db

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// needles are what a search's words must each be found as, in the folded text the index holds:
// a word of three or more characters anywhere in a column; one or two characters at the start of
// the reference ID, of the email or of a word of the name (the indexed text puts two spaces
// before each, so "  a" and " ab").
func needles(search string) []string {
	words := strings.Fields(search)
	out := make([]string, 0, len(words))
	for _, w := range words {
		w = Fold(w)
		out = append(out, strings.Repeat(" ", max(0, 3-utf8.RuneCountInString(w)))+w) // "  a", " ab", "abc"
	}
	return out
}

// Candidates. FTS5 finds a word as a phrase of its trigrams, reading every row that has any
// of them: for "maria garcia" at a million rows about 240,000 index entries and 11 ms, to find
// 267 rows. Instead, for a search of several words, the index is asked for the rows that have
// each word's rarest trigram (here 394 rows, from 45,000 entries, in 2 ms), and gather checks
// their folded text for the whole words as it reads their sort keys and statuses. The index
// compares the folded text exactly (migration 037), so the check agrees with it on every row.
const wordsSample = 4096 // newest rows in which each trigram is counted, to find the rarest

// candidates returns the rows that have each needle's rarest trigram, in rowid order, or few
// false when there are more than limit of them.
func (l *Lister) candidates(ctx context.Context, ns []string, limit int) (rowids []int64, few bool, err error) {
	var newest int64
	if err := l.d.readRow(ctx, []any{&newest}, "SELECT coalesce(max(rowid), 0) FROM inquiries"); err != nil {
		return nil, false, fmt.Errorf("db: search: %w", err)
	}
	sample := min(newest, wordsSample)
	terms := make([]string, 0, len(ns))
	est := float64(newest) // candidates expected, were the words found independently
	var entries float64    // index entries the index's own match would read, about
	for _, n := range ns {
		t, seen, all, err := l.rarestTrigram(ctx, n, newest-sample)
		if err != nil {
			return nil, false, err
		}
		terms = append(terms, ftsString(t))
		est *= float64(seen) / float64(max(sample, 1))
		entries += float64(all) * float64(newest) / float64(max(sample, 1))
	}
	// A candidate's row costs about what 100 index entries do, but most candidates of a rare
	// trigram are matches, whose rows gather reads either way: read them when they are under a
	// twentieth of the entries. At a million rows "thorvaldsen" has 490 candidates against
	// 64,000 entries (599 matches: 0.4 ms against 1.5), "maria garcia" 390 against 225,000
	// (1.6 ms against 9), and a reference-ID fragment of common digits 2,700 against 9,300.
	if est > float64(limit) || est*20 > entries {
		return nil, false, nil
	}
	slices.Sort(terms)
	rowids, err = l.matches(ctx, strings.Join(slices.Compact(terms), " AND "), limit+1)
	if err != nil || len(rowids) > limit {
		return nil, false, err
	}
	return rowids, true, nil
}

// hasAll reports whether every needle is in one of the columns (inquiries_search_text's,
// folded here as the index's were), as the index matches a phrase.
func hasAll(cols [3]string, ns []string) bool {
	for i := range cols {
		cols[i] = Fold(cols[i])
	}
	for _, n := range ns {
		if !strings.Contains(cols[0], n) && !strings.Contains(cols[1], n) && !strings.Contains(cols[2], n) {
			return false
		}
	}
	return true
}

// rarestTrigram returns the needle's trigram found in fewest of the rows after rowid from, in
// how many, and in how many all its trigrams were found. A trigram's count is kept for
// cacheTTL whatever changes: it only picks the candidates, never decides a row.
func (l *Lister) rarestTrigram(ctx context.Context, needle string, from int64) (best string, seen, all int64, err error) {
	rs := []rune(needle)
	seen = -1
	for i := 0; i+3 <= len(rs); i++ {
		t := string(rs[i : i+3])
		v, ok := l.lookup("trigram "+t, true)
		n, _ := v.(int64)
		if !ok {
			at := l.stamp()
			if err := l.d.readRow(ctx, []any{&n}, "SELECT count(*) FROM inquiries_fts WHERE inquiries_fts MATCH ? AND rowid > ?",
				ftsString(t), from); err != nil {
				return "", 0, 0, fmt.Errorf("db: search: %w", err)
			}
			l.keep("trigram "+t, n, at)
		}
		all += n
		if seen < 0 || n < seen {
			best, seen = t, n
		}
	}
	return best, seen, all, nil
}

// matches returns the rowids of an FTS5 expression's first limit matches, in rowid order.
func (l *Lister) matches(ctx context.Context, match string, limit int) ([]int64, error) {
	out, err := readAll(ctx, l.d, func(r scanner) (v int64, err error) {
		err = r.Scan(&v)
		return
	},
		"SELECT rowid FROM inquiries_fts WHERE inquiries_fts MATCH ? LIMIT "+strconv.Itoa(limit), match)
	if err != nil {
		return nil, fmt.Errorf("db: search: %w", err)
	}
	return out, nil
}
