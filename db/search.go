// Search: how the list's search box becomes a full-text query (see migration 008).

package db

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ftsMatch is the FTS5 MATCH expression of a search's needles: every word must match (several
// words narrow), each an FTS5 string with its quotes doubled, so nothing typed is FTS syntax.
func ftsMatch(ns []string) string {
	terms := make([]string, len(ns))
	for i, n := range ns {
		terms[i] = ftsString(n)
	}
	return strings.Join(terms, " AND ")
}

// ftsString is s as an FTS5 string: quoted, its quotes doubled.
func ftsString(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// ftsFrom drives a query from the search's matches, each joined to its inquiry; the CROSS JOIN
// keeps SQLite from reading inquiries first.
const ftsFrom = "inquiries_fts CROSS JOIN inquiries i ON i.rowid = inquiries_fts.rowid"

// Windowed search. A broad search ("maria", "acme.example") matches tens of thousands of rows;
// matching it everywhere reads every match's trigrams (hundreds of milliseconds at a million
// rows) only to keep the newest 51. Instead List walks the driver's index in sort order a window
// of rows at a time and searches only that window's rowid range, which FTS5 seeks to directly:
// rows are mostly stored in the order they were created, so a window's rowids are close
// together and a broad search fills a page from a few windows. The window's own rows bound the
// result exactly (its sort keys and rowid range), so the answer never depends on that order;
// only the cost does, and the walk gives up when it stops paying.
var (
	windowStart  = 512     // rows in the first window at least (see window); each next doubles
	windowBudget = 1 << 16 // rows walked before a search is judged narrow (better matched whole)
	windowSpread = int64(8)
	windowSpan   = int64(1 << 16) // rowids a window may span however few its rows (a selective index)
)

// windowable reports whether a plan's rows can be walked in windows: one sorted index range.
func (p plan) windowable(f *ListFilter) bool {
	if p.sortRange {
		return false
	}
	switch p.driver {
	case "order", "template", "creator":
		return true
	case "status":
		return len(f.Statuses) == 1
	}
	return false
}

// window returns the rowids of the page's rows (up to Limit+1, in page order) found by walking
// p's index in windows, or ok false when the walk gave up: the search is narrow (the budget ran
// out) or a window's rows are spread over a rowid range much wider than the window. With the
// search's density known (its matches per row), the first window is sized to fill the page:
// each window costs the search index about a millisecond however few its rows.
func (l *Lister) window(ctx context.Context, f *ListFilter, p plan, density float64) (found []int64, ok bool, err error) {
	col, dir, need := "i."+f.orderCol(), f.dir(), f.Limit+1
	bound := *f // its cursor moves to the end of each window
	first := windowStart
	if density > 0 {
		first = max(first, min(int(float64(need)*1.5/density), windowBudget/4))
	}
	for size, walked := first, 0; walked < windowBudget; walked, size = walked+size, size*2 {
		var w q
		p.driverTerm(f, &w)
		if f.Sort != SortUpdated { // the index is in creation order: a creation range bounds the walk
			f.createdTerms(&w, true)
		}
		bound.keyset(&w)
		walk := "SELECT i.rowid AS r, " + col + " AS o, i.id AS id FROM inquiries i" + w.where() +
			" ORDER BY " + col + " " + dir + ", i.id " + dir + " LIMIT "
		var n int64
		var lo, hi sql.NullInt64
		if err := l.d.readRow(ctx, []any{&n, &lo, &hi}, "SELECT count(*), min(r), max(r) FROM ("+walk+strconv.Itoa(size)+")", w.args...); err != nil {
			return nil, false, fmt.Errorf("db: search window: %w", err)
		}
		if n == 0 {
			return found, true, nil
		}
		if hi.Int64-lo.Int64 >= max(n*windowSpread, windowSpan) {
			return nil, false, nil
		}
		last := n < int64(size) // the window reaches the end of the index
		var end Cursor
		if !last {
			if err := l.d.readRow(ctx, []any{&end.At, &end.ID}, "SELECT o, id FROM ("+walk+"1 OFFSET "+strconv.Itoa(size-1)+")", w.args...); err != nil {
				return nil, false, fmt.Errorf("db: search window: %w", err)
			}
		}
		// The window's matches, the other filters checked: the search's matches in its rowid
		// range, each row then read; or, walking a rare driver (p.sparse), whose rows are few
		// of those in the range, the window's own rows again, those among the matches.
		var b q
		from := ftsFrom
		if !p.sparse {
			b.add("inquiries_fts MATCH ? AND inquiries_fts.rowid BETWEEN ? AND ?", f.match, lo.Int64, hi.Int64)
		} else {
			from = "inquiries i"
			p.driverTerm(f, &b)
			b.add("+i.rowid IN (SELECT rowid FROM inquiries_fts WHERE inquiries_fts MATCH ? AND rowid BETWEEN ? AND ?)", f.match, lo.Int64, hi.Int64)
		}
		f.statusTerm(&b, false)
		f.otherTerms(&b, "search", false)
		bound.keyset(&b)
		if !last {
			if dir == "DESC" {
				b.add("("+col+" >= ? AND ("+col+" > ? OR i.id >= ?))", end.At, end.At, end.ID)
			} else {
				b.add("("+col+" <= ? AND ("+col+" < ? OR i.id <= ?))", end.At, end.At, end.ID)
			}
		}
		rs, err := readAll(ctx, l.d, func(r scanner) (rowid int64, err error) {
			var o int64
			var id string
			err = r.Scan(&rowid, &o, &id)
			return
		}, f.keysArm(from, &b), b.args...)
		if err != nil {
			return nil, false, fmt.Errorf("db: search window: %w", err)
		}
		found = append(found, rs[:min(len(rs), need-len(found))]...)
		if len(found) >= need || last {
			return found, true, nil
		}
		// Give up as soon as the matches so far say the page would take more than the budget.
		if len(found) == 0 || (walked+int(n))*need/len(found) > windowBudget {
			return nil, false, nil
		}
		if dir == "DESC" {
			bound.After = end
		} else {
			bound.Before = end
		}
	}
	return nil, false, nil
}

// Gathered search. A narrow search (fewer than planCap matches) is found whole: one statement
// reads every match with its sort keys and status, the page is cut from them here, and the
// per-status counts of the same rows are kept for the counts request that follows the page.
type gathered struct {
	rows   []matchRow // every match that passes the filters other than status
	counts *StatusCounts
	at     cacheStamp // when the read began: a change after it makes the counts stale
}

type matchRow struct {
	rowid, o int64
	status   string
}

// gather reads all the search's matches, or ok false when it has planCap matches or more
// (broad: the caller walks an index instead). When few rows have each word's rarest trigram
// (see candidates), those rows are read and checked; else the index's own match is read first,
// so a broad search stops there without reading planCap rows of the table.
func (l *Lister) gather(ctx context.Context, f *ListFilter) (g gathered, ok bool, err error) {
	g.at = l.stamp()
	// One word's phrase costs the index little; the rows of candidates, their text read and
	// checked, cost more (measured: "thorvaldsen" 8 ms a page through the index, 11 through
	// candidates). Several words' phrases cost the index much more than their few candidates.
	var rowids []int64
	var few bool
	if len(f.needles) > 1 {
		if rowids, few, err = l.candidates(ctx, f.needles, planCap); err != nil {
			return g, false, err
		}
	}
	if !few {
		if rowids, err = l.matches(ctx, f.match, planCap+1); err != nil {
			return g, false, err
		}
		if len(rowids) > planCap {
			// Rows are mostly stored in creation order, so the span of these rowids tells about
			// how densely the search matches (see window).
			l.keep("breadth "+f.match, float64(len(rowids))/float64(rowids[len(rowids)-1]-rowids[0]+1), g.at)
			return g, false, nil
		}
	}
	l.keep("breadth "+f.match, 0.0, g.at)
	g.counts = &StatusCounts{N: map[string]int64{}}
	var b q
	f.otherTerms(&b, "search", false)
	pass := "1"
	if len(b.terms) > 0 {
		pass = "COALESCE((" + strings.Join(b.terms, ") AND (") + "), 0)" // NULL (no creator) fails
	}
	ids, _ := json.Marshal(rowids)
	text := ", '', '', ''" // the index matched these rows itself
	from := "inquiries i"
	if few {
		text = ", t.reference_id, t.name, t.email"
		from = "inquiries i JOIN inquiries_search_text t ON t.rowid = i.rowid"
	}
	g.rows = make([]matchRow, 0, len(rowids))
	var m matchRow
	var in bool
	var cols [3]string
	dest := []any{&m.rowid, &m.o, &m.status, &in, &cols[0], &cols[1], &cols[2]} // one for all the rows
	err = l.d.eachRow(ctx, func(r scanner) error {
		if err := r.Scan(dest...); err != nil {
			return err
		}
		if in && (!few || hasAll(cols, f.needles)) {
			g.rows = append(g.rows, m)
			g.counts.N[m.status]++
		}
		return nil
	}, "SELECT i.rowid, i."+f.orderCol()+", i.status, "+pass+text+" FROM "+from+
		" WHERE i.rowid IN (SELECT value FROM json_each(?))", append(b.args, string(ids))...)
	if err != nil {
		return g, false, fmt.Errorf("db: search: %w", err)
	}
	return g, true, nil
}

// page returns the rowids of the page's candidates, in no order: the matches of the filter's
// statuses beyond its cursor, the first Limit+1 of them in the list's order with any that tie
// with the last on the sort key, and all that tie with the cursor's (the matches carry no id
// to break ties with: rowsQuery does, with the cursor's bound and the limit). When those are
// not all the matches beyond the cursor, rest is all of them.
func (g gathered) page(f *ListFilter) (cand, rest []int64) {
	desc := f.dir() == "DESC"
	keep := make([]matchRow, 0, len(g.rows))
	for _, r := range g.rows {
		if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, r.status) {
			continue
		}
		if a := f.After; !a.IsZero() && r.o > a.At {
			continue
		}
		if b := f.Before; !b.IsZero() && r.o < b.At {
			continue
		}
		keep = append(keep, r)
	}
	slices.SortFunc(keep, func(a, b matchRow) int {
		if desc {
			return cmp.Compare(b.o, a.o)
		}
		return cmp.Compare(a.o, b.o)
	})
	at := f.After.At
	if !f.Before.IsZero() {
		at = f.Before.At
	}
	var ties int // candidates on the cursor's own sort key, which its id may put before it
	if !f.After.IsZero() || !f.Before.IsZero() {
		for ties < len(keep) && keep[ties].o == at {
			ties++
		}
	}
	n := min(len(keep), ties+f.Limit+1)
	for n > 0 && n < len(keep) && keep[n].o == keep[n-1].o {
		n++
	}
	all := make([]int64, len(keep))
	for i, r := range keep {
		all[i] = r.rowid
	}
	if n == len(keep) {
		return all, nil
	}
	return all[:n], all
}

// knownBreadth returns the density of a search gather found broad (planCap matches or more)
// less than cacheTTL ago, 0 for one found narrow, and whether it was found at all; only the
// choice of plan and the walk's first window depend on it.
func (l *Lister) knownBreadth(match string) (density float64, known bool) {
	v, known := l.lookup("breadth "+match, true)
	density, _ = v.(float64)
	return density, known
}
