// Per-status counts of the inquiry list, from the counts table or capped through an index.

package db

import (
	"context"
	"encoding/json"
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

type cachedCounts struct {
	c  *StatusCounts
	at cacheStamp
}

// Counts returns the rows per status for the filter's other conditions. Equality filters alone
// are answered exactly from the counts table; a narrow search (under planCap matches) exactly
// from its matches; a broad search, creation range and expiry count at most CountCap rows (a
// search SearchCountCap) through the narrowest index. All but the first are kept (see Lister).
func (l *Lister) Counts(ctx context.Context, f ListFilter) (*StatusCounts, error) {
	f.normalize()
	f.Statuses, f.After, f.Before, f.Sort = nil, Cursor{}, Cursor{}, SortCreated
	if f.Search == "" && f.ExpiringBefore.IsZero() && f.CreatedFrom.IsZero() && f.CreatedTo.IsZero() && f.Batch == 0 && f.AssignedTo == 0 && f.Tag == "" {
		counts, err := l.countRows(ctx)
		if err != nil {
			return nil, err
		}
		out := &StatusCounts{N: map[string]int64{}}
		for _, c := range counts {
			if (f.TemplateID == "" || c.template == f.TemplateID) && (f.CreatedBy == 0 || c.creator == f.CreatedBy) {
				out.N[c.status] += c.n
			}
		}
		return out, nil
	}
	start := l.stamp()
	if c, ok := l.keptCounts(&f); ok {
		return c, nil
	}
	alone := f.TemplateID == "" && f.CreatedBy == 0 && f.Batch == 0 && f.AssignedTo == 0 && f.Tag == "" && f.CreatedFrom.IsZero() && f.CreatedTo.IsZero() && f.ExpiringBefore.IsZero()
	if broad, _ := l.knownBreadth(f.match); f.match != "" && broad && alone {
		// A search found broad a moment ago alone: the statuses of its first SearchCountCap
		// matches, in one statement.
		out, err := l.statusCounts(ctx, "SELECT status, count(*) FROM inquiries WHERE rowid IN (SELECT rowid FROM inquiries_fts WHERE inquiries_fts MATCH ? LIMIT "+
			strconv.Itoa(SearchCountCap)+") GROUP BY status", f.match)
		if err != nil {
			return nil, err
		}
		out.Capped = out.Total(nil) >= SearchCountCap
		if out.Capped {
			l.keepCounts(f, out, start)
			return out, nil
		}
	}
	if f.match != "" {
		// A narrow search is counted exactly from all its matches (List keeps these too); a
		// broad one alone counts the first SearchCountCap matches gather read to find it broad.
		g, ok, err := l.gather(ctx, &f)
		if err != nil {
			return nil, err
		}
		if ok {
			l.keepCounts(f, g.counts, g.at)
			return g.counts, nil
		}
		if len(g.first) >= SearchCountCap && alone {
			out, err := l.sampleCounts(ctx, g.first[:SearchCountCap])
			if err != nil {
				return nil, err
			}
			out.Capped = true
			l.keepCounts(f, out, start)
			return out, nil
		}
	}

	var b q
	limit := CountCap
	inner := ""
	switch {
	case f.match != "":
		// A search broad enough for a walk in sort order is counted through its matches too:
		// they stop at the cap soonest. A narrower equality or expiry filter drives otherwise.
		p, err := l.plan(ctx, &f, true)
		if err != nil {
			return nil, err
		}
		switch p.driver {
		case "search", "order":
			limit = SearchCountCap
			f.searchTerm(&b, true)
			f.otherTerms(&b, "search", false)
			inner = "SELECT i.status FROM " + ftsFrom + b.where()
		case "expiring":
			b.add("i.status IN "+personWorkIn+" AND i.expires_at >= ? AND i.expires_at < ?", f.Now.UnixMilli(), f.ExpiringBefore.UnixMilli())
			f.otherTerms(&b, "expiring", false)
		case "assigned":
			f.otherTerms(&b, "assigned", false)
		default:
			f.otherTerms(&b, p.driver, true)
		}
	case !f.ExpiringBefore.IsZero():
		b.add("i.status IN "+personWorkIn+" AND i.expires_at >= ? AND i.expires_at < ?", f.Now.UnixMilli(), f.ExpiringBefore.UnixMilli())
		f.otherTerms(&b, "expiring", false)
	default:
		p, err := l.plan(ctx, &f, true)
		if err != nil {
			return nil, err
		}
		f.otherTerms(&b, p.driver, true)
	}
	if inner == "" {
		inner = "SELECT i.status FROM inquiries i" + b.where()
	}
	out, err := l.statusCounts(ctx, "SELECT status, count(*) FROM ("+inner+" LIMIT "+strconv.Itoa(limit)+") GROUP BY status", b.args...)
	if err != nil {
		return nil, err
	}
	out.Capped = out.Total(nil) >= int64(limit)
	l.keepCounts(f, out, start)
	return out, nil
}

// sampleCounts counts the given inquiries per status.
func (l *Lister) sampleCounts(ctx context.Context, rowids []int64) (*StatusCounts, error) {
	ids, _ := json.Marshal(rowids)
	return l.statusCounts(ctx, "SELECT status, count(*) FROM inquiries WHERE rowid IN (SELECT value FROM json_each(?)) GROUP BY status", string(ids))
}

// statusCounts runs a query of (status, count) rows.
func (l *Lister) statusCounts(ctx context.Context, query string, args ...any) (*StatusCounts, error) {
	rows, err := l.d.read(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("db: count inquiries: %w", err)
	}
	defer rows.Close()
	out := &StatusCounts{N: map[string]int64{}}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("db: count inquiries: %w", err)
		}
		out.N[s] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: count inquiries: %w", err)
	}
	return out, nil
}

// countsKey names the counts of a filter: its conditions other than status, cursor and sort.
// The expiry window moves with the clock: a minute's precision is plenty for a count.
func countsKey(f *ListFilter) string {
	return fmt.Sprintf("%s|%d|%d|%d|%d|%q|%d|%d|%q", f.TemplateID, f.CreatedBy, f.CreatedFrom.UnixMilli(), f.CreatedTo.UnixMilli(),
		f.ExpiringBefore.Sub(f.Now)/time.Minute, f.Search, f.Batch, f.AssignedTo, f.Tag)
}

// keptCounts returns the counts kept for the filter's other conditions, if still current.
func (l *Lister) keptCounts(f *ListFilter) (*StatusCounts, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.countCache[countsKey(f)]
	if !ok || !l.current(c.at) {
		return nil, false
	}
	return c.c, true
}

// keepCounts keeps counts for the filter's other conditions, stamped when their read began (so
// a change during it is not taken as counted).
func (l *Lister) keepCounts(f ListFilter, c *StatusCounts, at cacheStamp) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.countCache) > 500 {
		clear(l.countCache)
	}
	l.countCache[countsKey(&f)] = cachedCounts{c, at}
}
