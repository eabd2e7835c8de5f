// The Lister: pages of the inquiry list through cached prepared statements.

package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

const listCols = `i.id, i.reference_id, i.template_id, i.status, i.name, i.email, i.created_at, i.updated_at,
	i.expires_at, i.synced_at, COALESCE(i.created_by, 0), COALESCE(u.name, ''), COALESCE(t.name, ''),
	COALESCE((SELECT o.state FROM outbox o WHERE o.inquiry_id = i.id ORDER BY o.queued_at DESC, o.id DESC LIMIT 1), '')`

// Lister answers the inquiry list. What it keeps of a read (the counts table's sums, a filter's
// per-status counts) it keeps while the live hub's version is the one it was read at (every
// published change moves it) and for cacheTTL at most (writes no hub hears of: another
// process). A search's breadth is kept by time alone: it only picks a plan.
type Lister struct {
	d       *DB
	version func() uint64

	mu   sync.Mutex
	kept map[string]keptRead
}

// cacheTTL bounds how long a read is kept however still the hub's version.
const cacheTTL = 10 * time.Second

// cacheStamp is when a kept read began: the hub's version then, and the time.
type cacheStamp struct {
	ver uint64
	at  time.Time
}

// stamp is taken before a read, so a change published during it makes the read stale.
func (l *Lister) stamp() cacheStamp { return cacheStamp{l.version(), time.Now()} }

type keptRead struct {
	v  any
	at cacheStamp
}

// keep keeps a read stamped at under key; a flood of distinct filters starts the lot afresh.
func (l *Lister) keep(key string, v any, at cacheStamp) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.kept) >= 1000 {
		clear(l.kept)
	}
	l.kept[key] = keptRead{v, at}
}

// lookup returns the read kept under key while it is current: younger than cacheTTL and, unless
// anyVersion, read at the hub's version.
func (l *Lister) lookup(key string, anyVersion bool) (any, bool) {
	l.mu.Lock()
	k, ok := l.kept[key]
	l.mu.Unlock()
	if !ok || time.Since(k.at.at) >= cacheTTL || !anyVersion && k.at.ver != l.version() {
		return nil, false
	}
	return k.v, true
}

// betweenReads, when set by a test, runs between a gathered search's read of its matches and
// the read of its page, where a concurrent write may land.
var betweenReads func()

// NewLister returns a Lister over d; version is the live hub's count of published changes
// (nil: none are, and kept reads last cacheTTL).
func NewLister(d *DB, version func() uint64) *Lister {
	if version == nil {
		version = func() uint64 { return 0 }
	}
	return &Lister{d: d, version: version, kept: map[string]keptRead{}}
}

// tableCounts sums the counts table's rows per status, of one template and one creator when
// given: the exact counts of those equality filters, a few hundred rows summed by SQLite.
func (l *Lister) tableCounts(ctx context.Context, template string, creator int64) (*StatusCounts, error) {
	key := "table " + template + "|" + strconv.FormatInt(creator, 10)
	if v, ok := l.lookup(key, false); ok {
		return v.(*StatusCounts), nil
	}
	at := l.stamp()
	c, err := l.statusCounts(ctx, `SELECT status, sum(n) FROM inquiry_counts WHERE n > 0
		AND (?1 = '' OR template_id = ?1) AND (?2 = 0 OR created_by = ?2) GROUP BY status`, template, creator)
	if err != nil {
		return nil, err
	}
	l.keep(key, c, at)
	return c, nil
}

// cappedCount counts up to limit rows of a query cheaply (an index range, no sort).
func (l *Lister) cappedCount(ctx context.Context, from, where string, args []any, limit int) (int, error) {
	var n int
	err := l.d.readRow(ctx, []any{&n}, "SELECT count(*) FROM (SELECT 1 FROM "+from+where+" LIMIT "+strconv.Itoa(limit)+")", args...)
	if err != nil {
		return 0, fmt.Errorf("db: list plan: %w", err)
	}
	return n, nil
}

// List returns one page of the inquiry list.
func (l *Lister) List(ctx context.Context, f ListFilter) (*ListPage, error) {
	f.normalize()
	var query, name string
	var args []any
	var rest []int64 // a gathered page's other candidates, should a change since drop some of its own
	var counted *StatusCounts
	p, err := l.plan(ctx, &f)
	if err != nil {
		return nil, err
	}
	if f.match != "" {
		// A search first tries a walk in windows of the plan's index. Not for a search found
		// narrow a moment ago when the index to walk is longer than the walk's budget (its few
		// matches are spread too thin for windows to find a page), or when its counts are not
		// kept: the counts request would read all its matches anyway, and reading them now
		// answers both.
		density, known := l.knownBreadth(f.match)
		_, kept := l.keptCounts(&f)
		narrow := known && density == 0
		if p.windowable(&f) && !(narrow && (p.driver == "order" || p.rows > int64(windowBudget) || !kept)) {
			found, ok, err := l.window(ctx, &f, p, density)
			if err != nil {
				return nil, err
			}
			if ok {
				query, args = f.rowsQuery(found, false)
				name = p.String() + "+window"
			}
		}
		// Else a narrow search is read whole, and its counts kept for the counts request.
		if query == "" {
			g, ok, err := l.gather(ctx, &f)
			if err != nil {
				return nil, err
			}
			if ok {
				l.keep(countsKey(&f), g.counts, g.at)
				counted = g.counts
				if betweenReads != nil {
					betweenReads()
				}
				var cand []int64
				cand, rest = g.page(&f)
				query, args = f.rowsQuery(cand, true)
				name = "search"
			}
		}
	}
	if query == "" { // a broad search is checked row by row along the plan's walk
		var keys string
		keys, args = f.keysQuery(p)
		query = "SELECT " + listCols + " FROM (" + keys + ") k JOIN inquiries i ON i.rowid = k.r" +
			" LEFT JOIN users u ON u.id = i.created_by LEFT JOIN templates t ON t.id = i.template_id" +
			" ORDER BY k.o " + f.dir() + ", k.id " + f.dir()
		name = p.String()
	}
	page := &ListPage{Plan: name, Counts: counted}
	if page.Rows, err = l.d.listRows(ctx, query, args...); err != nil {
		return nil, err
	}
	if len(page.Rows) <= f.Limit && rest != nil {
		// A candidate's sort key changed since the matches were read, taking it past the
		// cursor, so the page came short: cut it from all the matches beyond the cursor.
		query, args = f.rowsQuery(rest, true)
		if page.Rows, err = l.d.listRows(ctx, query, args...); err != nil {
			return nil, err
		}
	}
	more := len(page.Rows) > f.Limit
	if more {
		page.Rows = page.Rows[:f.Limit]
	}
	backwards := !f.Before.IsZero()
	if backwards {
		slices.Reverse(page.Rows)
	}
	if len(page.Rows) > 0 {
		first, last := page.Rows[0], page.Rows[len(page.Rows)-1]
		// Walking down, older rows exist when the page overflowed; walking up, the cursor's
		// row itself is older. Newer rows mirror that.
		if more && !backwards || backwards {
			page.Older = f.cursorOf(last)
		}
		if more && backwards || !f.After.IsZero() {
			page.Newer = f.cursorOf(first)
		}
	}
	return page, nil
}

// listRows reads list rows.
func (d *DB) listRows(ctx context.Context, query string, args ...any) ([]ListRow, error) {
	out, err := readAll(ctx, d, scanListRow, query, args...)
	if err != nil {
		return nil, fmt.Errorf("db: list inquiries: %w", err)
	}
	return out, nil
}

// rowsQuery selects the list rows of the given rowids in page order; with cut (candidates found
// by sort key alone) only those beyond the cursor, at most Limit+1.
func (f *ListFilter) rowsQuery(rowids []int64, cut bool) (string, []any) {
	ids, _ := json.Marshal(rowids)
	b := q{terms: []string{"i.rowid IN (SELECT value FROM json_each(?))"}, args: []any{string(ids)}}
	limit := ""
	if cut {
		f.keyset(&b)
		limit = " LIMIT " + strconv.Itoa(f.Limit+1)
	}
	return "SELECT " + listCols + " FROM inquiries i LEFT JOIN users u ON u.id = i.created_by" +
		" LEFT JOIN templates t ON t.id = i.template_id" + b.where() +
		" ORDER BY i." + f.orderCol() + " " + f.dir() + ", i.id " + f.dir() + limit, b.args
}

func (f *ListFilter) cursorOf(r ListRow) Cursor {
	if f.Sort == SortUpdated {
		return Cursor{At: r.UpdatedAt.UnixMilli(), ID: r.ID}
	}
	return Cursor{At: r.CreatedAt.UnixMilli(), ID: r.ID}
}

func scanListRow(rows scanner) (ListRow, error) {
	var r ListRow
	var created, updated, synced int64
	var expires sql.NullInt64
	err := rows.Scan(&r.ID, &r.ReferenceID, &r.TemplateID, &r.Status, &r.Name, &r.Email, &created, &updated,
		&expires, &synced, &r.CreatedBy, &r.CreatedByName, &r.TemplateName, &r.EmailState)
	if err != nil {
		return r, err
	}
	r.CreatedAt, r.UpdatedAt, r.SyncedAt, r.ExpiresAt = time.UnixMilli(created), time.UnixMilli(updated), time.UnixMilli(synced), fromMS(expires)
	return r, nil
}

// ListRowByID returns one inquiry as a list row (for live updates of a single row).
func (d *DB) ListRowByID(ctx context.Context, id string) (*ListRow, error) {
	rows, err := d.ListRowsByID(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, ErrNotFound
	}
	return &rows[0], nil
}

// ListRowsByID returns the inquiries with the given ids as list rows, in the order given; ids
// not found are left out.
func (d *DB) ListRowsByID(ctx context.Context, ids []string) ([]ListRow, error) {
	list, _ := json.Marshal(ids)
	return d.listRows(ctx, "SELECT "+listCols+` FROM json_each(?) j CROSS JOIN inquiries i ON i.id = j.value
		LEFT JOIN users u ON u.id = i.created_by LEFT JOIN templates t ON t.id = i.template_id ORDER BY j.key`, string(list))
}

// Matches reports whether the cached inquiry id passes the filter (cursor and sort aside), to
// decide whether a live list should show a new row.
func (l *Lister) Matches(ctx context.Context, f ListFilter, id string) (bool, error) {
	f.normalize()
	var b q
	b.add("i.id = ?", id)
	f.statusTerm(&b, false)
	f.otherTerms(&b, "", false)
	var in bool
	if err := l.d.readRow(ctx, []any{&in}, "SELECT EXISTS (SELECT 1 FROM inquiries i"+b.where()+")", b.args...); err != nil {
		return false, fmt.Errorf("db: match inquiry %s: %w", id, err)
	}
	return in, nil
}
