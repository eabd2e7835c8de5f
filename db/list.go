package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sort orders of the inquiry list (always newest first).
const (
	SortCreated = "created"
	SortUpdated = "updated"
)

// OpenStatuses are the statuses in which the person still has something to do.
var OpenStatuses = []string{"created", "pending"}

// ListFilter selects and pages the inquiry list. Zero values mean "any".
type ListFilter struct {
	Statuses    []string
	TemplateID  string
	CreatedBy   int64
	CreatedFrom time.Time // inclusive
	CreatedTo   time.Time // exclusive
	// ExpiringBefore keeps open inquiries whose link expires between Now and this time.
	ExpiringBefore time.Time
	Now            time.Time
	// Search matches the start of the reference ID, the name or the email, ignoring ASCII case.
	Search string
	Sort   string // SortCreated (default) or SortUpdated
	// Keyset paging: After continues with older rows than the cursor, Before with newer ones.
	After, Before Cursor
	Limit         int
}

// Cursor is a position in the list: the sort column's value and the id that breaks ties.
type Cursor struct {
	At int64
	ID string
}

// IsZero reports an unset cursor.
func (c Cursor) IsZero() bool { return c.ID == "" }

// String encodes the cursor for a URL.
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	return strconv.FormatInt(c.At, 10) + "." + c.ID
}

// ParseCursor decodes Cursor.String; anything malformed is the zero cursor.
func ParseCursor(s string) Cursor {
	at, id, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || id == "" {
		return Cursor{}
	}
	return Cursor{At: n, ID: id}
}

// ListRow is one row of the inquiry list.
type ListRow struct {
	ID, ReferenceID, TemplateID, Status, Name, Email string
	CreatedAt, UpdatedAt, ExpiresAt, SyncedAt        time.Time
	CreatedBy                                        int64
	CreatedByName, TemplateName                      string
	EmailState                                       string // newest email's outbox state, "" if none
}

// ListPage is one page of the list with the cursors of its neighbours (zero when none).
type ListPage struct {
	Rows         []ListRow
	Older, Newer Cursor
	Plan         string // how the rows were found, for tests and the benchmark
}

// MaxListLimit is the largest page (the CSV export reads in pages of this size).
const MaxListLimit = 1000

// Match-count caps. A filter-driven plan (find the matches through a narrow index, then sort
// them) is used while the narrowest filter matches fewer than planCap rows; beyond that the
// list walks an index in the sort order and checks the other filters row by row, which finds
// a page quickly precisely because the filter is broad.
const (
	CountCap = 10000
	// SearchCountCap is lower: a broad search's matches are found through its own index but
	// each needs its row read.
	SearchCountCap = 2000
)

// Variables so tests can reach every plan with a small table.
var (
	planCap  = 3000
	rangeCap = 20000
)

func (f *ListFilter) normalize() {
	if f.Sort != SortUpdated {
		f.Sort = SortCreated
	}
	if f.Limit <= 0 || f.Limit > MaxListLimit {
		f.Limit = 50
	}
	if f.Now.IsZero() {
		f.Now = time.Now()
	}
	f.Search = strings.TrimSpace(f.Search)
	slices.Sort(f.Statuses)
	f.Statuses = slices.Compact(f.Statuses)
}

// q accumulates SQL terms and their arguments.
type q struct {
	terms []string
	args  []any
}

func (b *q) add(term string, args ...any) {
	b.terms = append(b.terms, term)
	b.args = append(b.args, args...)
}

func (b *q) where() string {
	if len(b.terms) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(b.terms, " AND ")
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// prefixRange returns the NOCASE range [lo, hi) of strings starting with p.
func prefixRange(p string) (string, string) { return p, p + "\U0010FFFF" }

// Filter terms. indexed says whether the term may drive an index; a residual term gets SQLite's
// unary + so the planner keeps to the index chosen here (the + keeps the column's collation).
func (f *ListFilter) statusTerm(b *q, indexed bool) {
	if len(f.Statuses) > 0 {
		b.add(plus(indexed)+"i.status IN ("+placeholders(len(f.Statuses))+")", anys(f.Statuses)...)
	}
}

func plus(indexed bool) string {
	if indexed {
		return ""
	}
	return "+"
}

func (f *ListFilter) otherTerms(b *q, skip string, indexedRange bool) {
	if f.TemplateID != "" {
		b.add(plus(skip == "template")+"i.template_id = ?", f.TemplateID)
	}
	if f.CreatedBy != 0 {
		b.add(plus(skip == "creator")+"i.created_by = ?", f.CreatedBy)
	}
	if !f.CreatedFrom.IsZero() {
		b.add(plus(indexedRange)+"i.created_at >= ?", f.CreatedFrom.UnixMilli())
	}
	if !f.CreatedTo.IsZero() {
		b.add(plus(indexedRange)+"i.created_at < ?", f.CreatedTo.UnixMilli())
	}
	if !f.ExpiringBefore.IsZero() && skip != "expiring" {
		b.add("+i.status IN ('created', 'pending') AND +i.expires_at >= ? AND +i.expires_at < ?", f.Now.UnixMilli(), f.ExpiringBefore.UnixMilli())
	}
	if f.Search != "" && skip != "search" {
		lo, hi := prefixRange(f.Search)
		b.add("(+i.reference_id >= ? AND +i.reference_id < ? OR +i.name >= ? AND +i.name < ? OR +i.email >= ? AND +i.email < ?)",
			lo, hi, lo, hi, lo, hi)
	}
}

func (f *ListFilter) orderCol() string {
	if f.Sort == SortUpdated {
		return "updated_at"
	}
	return "created_at"
}

// keyset adds the cursor's bound; the redundant first comparison lets it bound the index range.
func (f *ListFilter) keyset(b *q) {
	col := "i." + f.orderCol()
	switch {
	case !f.After.IsZero():
		b.add("("+col+" <= ? AND ("+col+" < ? OR i.id < ?))", f.After.At, f.After.At, f.After.ID)
	case !f.Before.IsZero():
		b.add("("+col+" >= ? AND ("+col+" > ? OR i.id > ?))", f.Before.At, f.Before.At, f.Before.ID)
	}
}

func (f *ListFilter) dir() string {
	if !f.Before.IsZero() {
		return "ASC"
	}
	return "DESC"
}

// keysArm selects the sort keys of one way in, sorted and limited.
func (f *ListFilter) keysArm(from string, b *q) string {
	col := f.orderCol()
	return "SELECT i.rowid AS r, i." + col + " AS o, i.id AS id FROM " + from + b.where() +
		" ORDER BY i." + col + " " + f.dir() + ", i.id " + f.dir() + " LIMIT " + strconv.Itoa(f.Limit+1)
}

// union merges several sorted arms (UNION drops rows that two arms both found).
func (f *ListFilter) union(arms []string) string {
	if len(arms) == 1 {
		return arms[0]
	}
	parts := make([]string, len(arms))
	for i, a := range arms {
		parts[i] = "SELECT * FROM (" + a + ")"
	}
	return strings.Join(parts, " UNION ") + " ORDER BY o " + f.dir() + ", id " + f.dir() + " LIMIT " + strconv.Itoa(f.Limit+1)
}

const listCols = `i.id, i.reference_id, i.template_id, i.status, i.name, i.email, i.created_at, i.updated_at,
	i.expires_at, i.synced_at, COALESCE(i.created_by, 0), COALESCE(u.name, ''), COALESCE(t.name, ''),
	COALESCE((SELECT o.state FROM outbox o WHERE o.inquiry_id = i.id ORDER BY o.queued_at DESC, o.id DESC LIMIT 1), '')`

// Lister answers the inquiry list. It keeps the per-(status, template, creator) counts for a
// moment, to plan queries and show counts without touching the big table.
type Lister struct {
	d   *DB
	ttl time.Duration

	mu         sync.Mutex
	counts     []countRow
	at         time.Time
	countCache map[string]cachedCounts
	changedAt  time.Time

	smu   sync.Mutex
	stmts map[string]*sql.Stmt
}

// maxStmts bounds the prepared statements kept: the list's SQL depends only on which filters
// are set, so a few hundred shapes cover real use; beyond that queries are prepared each time.
const maxStmts = 512

// query runs a read query through a prepared statement kept for its text (SQLite's parsing
// and planning are a good part of a small query's cost).
func (l *Lister) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	l.smu.Lock()
	st := l.stmts[query]
	l.smu.Unlock()
	if st == nil {
		var err error
		if st, err = l.d.R.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		l.smu.Lock()
		if prev := l.stmts[query]; prev != nil {
			st.Close()
			st = prev
		} else if len(l.stmts) < maxStmts {
			l.stmts[query] = st
		} else {
			defer st.Close() // after the rows are read: Rows keep their own reference
		}
		l.smu.Unlock()
	}
	return st.QueryContext(ctx, args...)
}

func (l *Lister) queryRow(ctx context.Context, dest []any, query string, args ...any) error {
	rows, err := l.query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

type countRow struct {
	status, template string
	creator          int64
	n                int64
}

// NewLister returns a Lister over d.
func NewLister(d *DB) *Lister {
	return &Lister{d: d, ttl: 2 * time.Second, countCache: map[string]cachedCounts{}, stmts: map[string]*sql.Stmt{}}
}

func (l *Lister) countRows(ctx context.Context) ([]countRow, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts != nil && l.fresh(l.at, l.ttl) {
		return l.counts, nil
	}
	rows, err := l.query(ctx, `SELECT status, template_id, created_by, n FROM inquiry_counts WHERE n > 0`)
	if err != nil {
		return nil, fmt.Errorf("db: inquiry counts: %w", err)
	}
	defer rows.Close()
	out := []countRow{}
	for rows.Next() {
		var c countRow
		if err := rows.Scan(&c.status, &c.template, &c.creator, &c.n); err != nil {
			return nil, fmt.Errorf("db: inquiry counts: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: inquiry counts: %w", err)
	}
	l.counts, l.at = out, time.Now()
	return out, nil
}

// Changed tells the Lister the cache changed: what it counted before is read again once it is
// older than a moment (so a burst of webhooks costs one recount, not one each).
func (l *Lister) Changed() {
	l.mu.Lock()
	l.changedAt = time.Now()
	l.mu.Unlock()
}

// changedGrace is how stale counts may be after a change; call with mu held.
const changedGrace = 250 * time.Millisecond

func (l *Lister) fresh(at time.Time, ttl time.Duration) bool {
	age := time.Since(at)
	return age < ttl && (at.After(l.changedAt) || age < changedGrace)
}

// eqCount sums the cached counts matching the equality filters, each only when asked for.
func eqCount(counts []countRow, statuses []string, template string, creator int64) int64 {
	var n int64
	for _, c := range counts {
		if (statuses == nil || slices.Contains(statuses, c.status)) && (template == "" || c.template == template) && (creator == 0 || c.creator == creator) {
			n += c.n
		}
	}
	return n
}

// cappedCount counts up to limit rows of a query cheaply (an index range, no sort).
func (l *Lister) cappedCount(ctx context.Context, from string, args []any, limit int) (int, error) {
	var n int
	err := l.queryRow(ctx, []any{&n}, "SELECT count(*) FROM (SELECT 1 FROM inquiries i"+from+" LIMIT "+strconv.Itoa(limit)+")", args...)
	if err != nil {
		return 0, fmt.Errorf("db: list plan: %w", err)
	}
	return n, nil
}

// plan is the way in to the list: the driver names the index that finds the rows; sortRange
// means the driver's creation-time index bounded by the creation range, its rows then sorted.
type plan struct {
	driver    string // search, expiring, status, template, creator, order
	sortRange bool
}

func (p plan) String() string {
	if p.sortRange {
		return p.driver + "+range"
	}
	return p.driver
}

// plan picks the way in: the narrowest of search and expiry when it matches few rows, else a
// walk in sort order driven by the narrowest equality filter. SQLite's planner has no
// statistics about prefixes and skew; the capped counts and the counts table are ours.
func (l *Lister) plan(ctx context.Context, f *ListFilter) (plan, error) {
	best, bestN := "", planCap
	try := func(name, where string, args ...any) error {
		n, err := l.cappedCount(ctx, where, args, bestN)
		if err != nil {
			return err
		}
		if n < bestN {
			best, bestN = name, n
		}
		return nil
	}
	if f.Search != "" {
		lo, hi := prefixRange(f.Search)
		if err := try("search", " WHERE i.reference_id >= ? AND i.reference_id < ? OR i.name >= ? AND i.name < ? OR i.email >= ? AND i.email < ?", lo, hi, lo, hi, lo, hi); err != nil {
			return plan{}, err
		}
	}
	if !f.ExpiringBefore.IsZero() {
		if err := try("expiring", " WHERE i.status IN ('created', 'pending') AND i.expires_at >= ? AND i.expires_at < ?", f.Now.UnixMilli(), f.ExpiringBefore.UnixMilli()); err != nil {
			return plan{}, err
		}
	}
	if best != "" {
		return plan{driver: best}, nil
	}
	p := plan{driver: "order"}
	if len(f.Statuses) > 0 || f.TemplateID != "" || f.CreatedBy != 0 {
		counts, err := l.countRows(ctx)
		if err != nil {
			return plan{}, err
		}
		n := int64(1 << 62)
		if len(f.Statuses) > 0 {
			p.driver, n = "status", eqCount(counts, f.Statuses, "", 0)
		}
		if f.TemplateID != "" {
			if m := eqCount(counts, nil, f.TemplateID, 0); m < n {
				p.driver, n = "template", m
			}
		}
		if f.CreatedBy != 0 {
			if m := eqCount(counts, nil, "", f.CreatedBy); m < n {
				p.driver = "creator"
			}
		}
	}
	// Sorted by update, a creation range that ends in the past makes the walk skip every row
	// updated since: sort the driver's rows in the range instead when they are fewer.
	if f.Sort == SortUpdated && !f.CreatedTo.IsZero() {
		var in, skip q
		p.driverTerm(f, &in)
		p.driverTerm(f, &skip)
		in.add("i.created_at >= ? AND i.created_at < ?", f.CreatedFrom.UnixMilli(), f.CreatedTo.UnixMilli())
		skip.add("i.updated_at >= ?", f.CreatedTo.UnixMilli())
		rangeN, err := l.cappedCount(ctx, in.where(), in.args, rangeCap)
		if err != nil {
			return plan{}, err
		}
		skipN, err := l.cappedCount(ctx, skip.where(), skip.args, rangeCap)
		if err != nil {
			return plan{}, err
		}
		p.sortRange = rangeN < skipN
	}
	return p, nil
}

// driverTerm adds the driver's equality term (for statuses, the whole IN list).
func (p plan) driverTerm(f *ListFilter, b *q) {
	switch p.driver {
	case "status":
		f.statusTerm(b, true)
	case "template":
		b.add("i.template_id = ?", f.TemplateID)
	case "creator":
		b.add("i.created_by = ?", f.CreatedBy)
	}
}

// createdIndex is the driver's creation-time index, which a sortRange plan must use.
var createdIndex = map[string]string{
	"order": "inquiries_created", "status": "inquiries_status_created",
	"template": "inquiries_template_created", "creator": "inquiries_creator_created",
}

// keysQuery builds the query of the page's sort keys for a plan.
func (f *ListFilter) keysQuery(p plan) (string, []any) {
	var arms []string
	var args []any
	arm := func(build func(b *q)) {
		var b q
		build(&b)
		f.keyset(&b)
		from := "inquiries i"
		if p.sortRange {
			from = "inquiries i INDEXED BY " + createdIndex[p.driver]
		}
		arms = append(arms, f.keysArm(from, &b))
		args = append(args, b.args...)
	}
	rangeIndexed := f.Sort == SortCreated || p.sortRange
	switch p.driver {
	case "search":
		lo, hi := prefixRange(f.Search)
		for _, col := range []string{"reference_id", "name", "email"} {
			arm(func(b *q) {
				b.add("i."+col+" >= ? AND i."+col+" < ?", lo, hi)
				f.statusTerm(b, false)
				f.otherTerms(b, "search", false)
			})
		}
	case "expiring":
		arm(func(b *q) {
			b.add("i.status IN ('created', 'pending') AND i.expires_at >= ? AND i.expires_at < ?", f.Now.UnixMilli(), f.ExpiringBefore.UnixMilli())
			f.statusTerm(b, false)
			f.otherTerms(b, "expiring", false)
		})
	case "status":
		// One sorted walk per status, merged: an IN list would have to sort every match.
		for _, st := range f.Statuses {
			arm(func(b *q) {
				b.add("i.status = ?", st)
				f.otherTerms(b, "", rangeIndexed)
			})
		}
	case "template", "creator":
		arm(func(b *q) {
			f.statusTerm(b, false)
			f.otherTerms(b, p.driver, rangeIndexed)
		})
	default: // "order": the sort index itself
		arm(func(b *q) {
			f.statusTerm(b, false)
			f.otherTerms(b, "", rangeIndexed)
		})
	}
	return f.union(arms), args
}

// List returns one page of the inquiry list.
func (l *Lister) List(ctx context.Context, f ListFilter) (*ListPage, error) {
	f.normalize()
	plan, err := l.plan(ctx, &f)
	if err != nil {
		return nil, err
	}
	keys, args := f.keysQuery(plan)
	query := "SELECT " + listCols + " FROM (" + keys + ") k JOIN inquiries i ON i.rowid = k.r" +
		" LEFT JOIN users u ON u.id = i.created_by LEFT JOIN templates t ON t.id = i.template_id" +
		" ORDER BY k.o " + f.dir() + ", k.id " + f.dir()
	rows, err := l.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("db: list inquiries: %w", err)
	}
	defer rows.Close()
	page := &ListPage{Plan: plan.String(), Rows: make([]ListRow, 0, f.Limit+1)}
	for rows.Next() {
		r, err := scanListRow(rows)
		if err != nil {
			return nil, fmt.Errorf("db: list inquiries: %w", err)
		}
		page.Rows = append(page.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: list inquiries: %w", err)
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

func (f *ListFilter) cursorOf(r ListRow) Cursor {
	if f.Sort == SortUpdated {
		return Cursor{At: r.UpdatedAt.UnixMilli(), ID: r.ID}
	}
	return Cursor{At: r.CreatedAt.UnixMilli(), ID: r.ID}
}

func scanListRow(rows interface{ Scan(...any) error }) (ListRow, error) {
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
	r, err := scanListRow(d.R.QueryRowContext(ctx, "SELECT "+listCols+` FROM inquiries i
		LEFT JOIN users u ON u.id = i.created_by LEFT JOIN templates t ON t.id = i.template_id WHERE i.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: list row %s: %w", id, err)
	}
	return &r, nil
}

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
	at time.Time
}

// countsTTL bounds how stale the counts under a search, range or expiry filter may be; they
// cost a bounded scan, so each distinct filter pays it at most this often.
const countsTTL = 10 * time.Second

// Counts returns the rows per status for the filter's other conditions. Equality filters alone
// are answered exactly from the counts table; search, creation range and expiry count at most
// CountCap rows through the narrowest index, and are kept for countsTTL.
func (l *Lister) Counts(ctx context.Context, f ListFilter) (*StatusCounts, error) {
	f.normalize()
	f.Statuses, f.After, f.Before, f.Sort = nil, Cursor{}, Cursor{}, SortCreated
	if f.Search == "" && f.ExpiringBefore.IsZero() && f.CreatedFrom.IsZero() && f.CreatedTo.IsZero() {
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
	// The expiry window moves with the clock: a minute's precision is plenty for a count.
	key := fmt.Sprintf("%s|%d|%d|%d|%d|%q", f.TemplateID, f.CreatedBy, f.CreatedFrom.UnixMilli(), f.CreatedTo.UnixMilli(),
		f.ExpiringBefore.Sub(f.Now)/time.Minute, f.Search)
	l.mu.Lock()
	if c, ok := l.countCache[key]; ok && l.fresh(c.at, countsTTL) {
		l.mu.Unlock()
		return c.c, nil
	}
	l.mu.Unlock()

	var b q
	limit := CountCap
	inner := ""
	switch {
	case f.Search != "":
		// One arm per searched column, each leaving out what an earlier arm found (a name and
		// an email often share their start), read in turn until the cap.
		limit = SearchCountCap
		lo, hi := prefixRange(f.Search)
		var all []string
		var args []any
		var prev []string
		for _, col := range []string{"reference_id", "name", "email"} {
			var a q
			a.add("i."+col+" >= ? AND i."+col+" < ?", lo, hi)
			for _, pc := range prev {
				a.add("NOT (+i."+pc+" >= ? AND +i."+pc+" < ?)", lo, hi)
			}
			f.otherTerms(&a, "search", false)
			all = append(all, "SELECT i.status FROM inquiries i"+a.where())
			args = append(args, a.args...)
			prev = append(prev, col)
		}
		inner, b.args = strings.Join(all, " UNION ALL "), args
	case !f.ExpiringBefore.IsZero():
		b.add("i.status IN ('created', 'pending') AND i.expires_at >= ? AND i.expires_at < ?", f.Now.UnixMilli(), f.ExpiringBefore.UnixMilli())
		f.otherTerms(&b, "expiring", false)
	default:
		p, err := l.plan(ctx, &f)
		if err != nil {
			return nil, err
		}
		f.otherTerms(&b, p.driver, true)
	}
	if inner == "" {
		inner = "SELECT i.status FROM inquiries i" + b.where()
	}
	rows, err := l.d.R.QueryContext(ctx, "SELECT status, count(*) FROM ("+inner+" LIMIT "+strconv.Itoa(limit)+") GROUP BY status", b.args...)
	if err != nil {
		return nil, fmt.Errorf("db: count inquiries: %w", err)
	}
	defer rows.Close()
	out := &StatusCounts{N: map[string]int64{}}
	var total int64
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("db: count inquiries: %w", err)
		}
		out.N[s], total = n, total+n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: count inquiries: %w", err)
	}
	out.Capped = total >= int64(limit)
	l.mu.Lock()
	if len(l.countCache) > 500 {
		clear(l.countCache)
	}
	l.countCache[key] = cachedCounts{out, time.Now()}
	l.mu.Unlock()
	return out, nil
}

// --- sync ---

// finalStatuses are those Persona will not change by itself (see Final).
var finalStatuses = []string{"approved", "declined", "failed", "expired"}

// OpenInquiries returns the ids of cached inquiries that are not final (an unknown status
// counts as open), oldest first, with the oldest one's creation time.
func (d *DB) OpenInquiries(ctx context.Context) (ids []string, oldest time.Time, err error) {
	// The counts table names every status present, so the IN list can use the status index.
	rows, err := d.R.QueryContext(ctx, `SELECT DISTINCT status FROM inquiry_counts WHERE n > 0`)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("db: open inquiries: %w", err)
	}
	var open []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, time.Time{}, fmt.Errorf("db: open inquiries: %w", err)
		}
		if !slices.Contains(finalStatuses, s) {
			open = append(open, s)
		}
	}
	rows.Close()
	if len(open) == 0 {
		return nil, time.Time{}, nil
	}
	rows, err = d.R.QueryContext(ctx, `SELECT id, created_at FROM inquiries WHERE status IN (`+placeholders(len(open))+`) ORDER BY created_at`, anys(open)...)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("db: open inquiries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			return nil, time.Time{}, fmt.Errorf("db: open inquiries: %w", err)
		}
		if len(ids) == 0 {
			oldest = time.UnixMilli(at)
		}
		ids = append(ids, id)
	}
	return ids, oldest, rows.Err()
}

// SaveSynced stores rows fetched from Persona in one transaction, each only if newer than the
// cached one, and marks them all synced at at. It returns the ids that changed and, among
// them, those the cache did not know.
func (d *DB) SaveSynced(ctx context.Context, rows []Inquiry, at time.Time) (changed, discovered []string, err error) {
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		changed, discovered = changed[:0], discovered[:0]
		for _, r := range rows {
			var version int64
			err := tx.QueryRowContext(ctx, `SELECT version_at FROM inquiries WHERE id = ?`, r.ID).Scan(&version)
			known := err == nil
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("db: save synced %s: %w", r.ID, err)
			}
			r.SyncedAt = at
			ok := false
			// The same version again is nothing new: only the sync time moves.
			if !known || r.VersionAt.UnixMilli() > version {
				if ok, err = UpsertInquiry(ctx, tx, r); err != nil {
					return err
				}
			}
			if ok {
				changed = append(changed, r.ID)
				if !known {
					discovered = append(discovered, r.ID)
				}
			} else if _, err := tx.ExecContext(ctx, `UPDATE inquiries SET synced_at = ? WHERE id = ?`, at.UnixMilli(), r.ID); err != nil {
				return fmt.Errorf("db: save synced %s: %w", r.ID, err)
			}
		}
		return nil
	})
	return changed, discovered, err
}

// Matches reports whether the cached inquiry id passes the filter (cursor and sort aside), to
// decide whether a live list should show a new row.
func (l *Lister) Matches(ctx context.Context, f ListFilter, id string) (bool, error) {
	f.normalize()
	var b q
	b.add("i.id = ?", id)
	f.statusTerm(&b, false)
	f.otherTerms(&b, "", false)
	var one int
	err := l.queryRow(ctx, []any{&one}, "SELECT 1 FROM inquiries i"+b.where(), b.args...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("db: match inquiry %s: %w", id, err)
	}
	return true, nil
}
