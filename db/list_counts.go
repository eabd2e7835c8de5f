// Per-status counts of the inquiry list, from the counts table or capped through an index.

package db

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// StatusCounts are the rows per status that match a filter's other conditions.
type StatusCounts struct {
	N      map[string]int64
	Capped bool // counting stopped at CountCap rows: the numbers are lower bounds
}

// Total sums the counts of the given statuses (all when none are given).
func (c *StatusCounts) Total(statuses []string) int64 {
	var n int64
	for s, v := range c.N {
		if len(statuses) == 0 || slices.Contains(statuses, s) {
			n += v
		}
	}
	return n
}

// Counts returns the rows per status for the filter's other conditions. Equality filters alone
// are answered exactly from the counts table; a narrow search (under planCap matches) exactly
// from its matches; a broad search, creation range and expiry count at most CountCap rows (a
// search SearchCountCap) through the narrowest index. All but the first are kept (see Lister).
func (l *Lister) Counts(ctx context.Context, f ListFilter) (*StatusCounts, error) {
	f.normalize()
	f.Statuses, f.After, f.Before, f.Sort = nil, Cursor{}, Cursor{}, SortCreated
	if f.Search == "" && f.ExpiringBefore.IsZero() && f.CreatedFrom.IsZero() && f.CreatedTo.IsZero() && f.Batch == 0 && f.AssignedTo == 0 && f.Tag == "" {
		return l.tableCounts(ctx, f.TemplateID, f.CreatedBy)
	}
	start := l.stamp()
	if c, ok := l.keptCounts(&f); ok {
		return c, nil
	}
	if density, _ := l.knownBreadth(f.match); f.match != "" && density == 0 {
		// A narrow search is counted exactly from all its matches (List keeps these too).
		g, ok, err := l.gather(ctx, &f)
		if err != nil {
			return nil, err
		}
		if ok {
			l.keep(countsKey(&f), g.counts, g.at)
			return g.counts, nil
		}
	}
	p := plan{driver: "expiring"} // its partial index holds only the matches: counting stops with them
	if f.match != "" || f.ExpiringBefore.IsZero() {
		var err error
		if p, err = l.plan(ctx, &f); err != nil {
			return nil, err
		}
	}
	var b q
	limit, from := CountCap, "inquiries i"
	switch p.driver {
	case "expiring":
		from = expiringFrom
		f.expiringTerm(&b, true)
		f.otherTerms(&b, "expiring", false)
	case "assigned":
		f.otherTerms(&b, "assigned", false)
	case "order":
		if f.match != "" {
			// A broad search walked in sort order is counted through its matches: they stop at
			// the cap soonest, and each needs its row read, so the cap is lower.
			limit, from = SearchCountCap, ftsFrom
			b.add("inquiries_fts MATCH ?", f.match)
			f.otherTerms(&b, "search", false)
			break
		}
		fallthrough
	default:
		f.otherTerms(&b, p.driver, true)
	}
	inner := "SELECT i.status FROM " + from + b.where()
	out, err := l.statusCounts(ctx, "SELECT status, count(*) FROM ("+inner+" LIMIT "+strconv.Itoa(limit)+") GROUP BY status", b.args...)
	if err != nil {
		return nil, err
	}
	out.Capped = out.Total(nil) >= int64(limit)
	l.keep(countsKey(&f), out, start)
	return out, nil
}

// statusCounts runs a query of (status, count) rows.
func (l *Lister) statusCounts(ctx context.Context, query string, args ...any) (*StatusCounts, error) {
	type count struct {
		s string
		n int64
	}
	rows, err := readAll(ctx, l.d, func(r scanner) (c count, err error) {
		err = r.Scan(&c.s, &c.n)
		return
	}, query, args...)
	if err != nil {
		return nil, fmt.Errorf("db: count inquiries: %w", err)
	}
	out := &StatusCounts{N: map[string]int64{}}
	for _, c := range rows {
		out.N[c.s] = c.n
	}
	return out, nil
}

// countsKey names the counts of a filter: its conditions other than status, cursor and sort.
// The expiry window moves with the clock: a minute's precision is plenty for a count.
func countsKey(f *ListFilter) string {
	return fmt.Sprintf("counts %s|%d|%d|%d|%d|%q|%d|%d|%q", f.TemplateID, f.CreatedBy, f.CreatedFrom.UnixMilli(), f.CreatedTo.UnixMilli(),
		f.ExpiringBefore.Sub(f.Now)/time.Minute, f.Search, f.Batch, f.AssignedTo, f.Tag)
}

// keptCounts returns the counts kept for the filter's other conditions, if still current.
func (l *Lister) keptCounts(f *ListFilter) (*StatusCounts, bool) {
	v, ok := l.lookup(countsKey(f), false)
	c, _ := v.(*StatusCounts)
	return c, ok
}
