// The list planner: which index drives a filtered page, and the keyset SQL it runs.

package db

import (
	"context"
	"strconv"
	"strings"
)

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
	if f.Batch != 0 {
		b.add("i.id IN (SELECT inquiry_id FROM bulk_rows WHERE job_id = ?)", f.Batch)
	}
	if f.AssignedTo != 0 { // the same term whether it drives or not
		b.add(assignedTerm, f.AssignedTo)
	}
	if f.Tag != "" {
		b.add("EXISTS (SELECT 1 FROM json_each(i.tags) WHERE value = ?)", f.Tag)
	}
	f.createdTerms(b, indexedRange)
	if !f.ExpiringBefore.IsZero() && skip != "expiring" {
		f.expiringTerm(b, false)
	}
	if f.match != "" && skip != "search" {
		b.add("+i.rowid IN (SELECT rowid FROM inquiries_fts WHERE inquiries_fts MATCH ?)", f.match) // checked row by row
	}
	if f.inquiryID != "" {
		b.add(plus(skip == "id")+"i.id = ?", f.inquiryID)
	}
}

// createdTerms add the creation range.
func (f *ListFilter) createdTerms(b *q, indexed bool) {
	if !f.CreatedFrom.IsZero() {
		b.add(plus(indexed)+"i.created_at >= ?", f.CreatedFrom.UnixMilli())
	}
	if !f.CreatedTo.IsZero() {
		b.add(plus(indexed)+"i.created_at < ?", f.CreatedTo.UnixMilli())
	}
}

// expiringFrom drives a query by the expiry index, which holds only open inquiries, with their
// status: left to itself, SQLite walks the status index and reads every open row.
const expiringFrom = "inquiries i INDEXED BY inquiries_expires"

// expiringTerm keeps the open inquiries whose link expires between Now and ExpiringBefore.
func (f *ListFilter) expiringTerm(b *q, indexed bool) {
	p := plus(indexed)
	b.add(p+"i.status IN "+personWorkIn+" AND "+p+"i.expires_at >= ? AND "+p+"i.expires_at < ?", f.Now.UnixMilli(), f.ExpiringBefore.UnixMilli())
}

// assignedTerm keeps the inquiries assigned to one staff member; as the driver it reads them
// from the assignments index, the few a person works on.
const assignedTerm = "i.id IN (SELECT inquiry_id FROM assignments WHERE user_id = ?)"

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

// plan is the way in to the list: the driver names the index that finds the rows; sortRange
// means the driver's creation-time index bounded by the creation range, its rows then sorted.
type plan struct {
	driver    string // id, expiring, assigned, status, template, creator, order
	sortRange bool
	rows      int64 // an equality driver's rows (from the counts table); 0 when not known
	sparse    bool  // an equality driver with under a quarter of all rows
}

func (p plan) String() string {
	if p.sortRange {
		return p.driver + "+range"
	}
	return p.driver
}

// plan picks the way in: expiry or assignment when it matches few rows, else a walk in sort
// order driven by the narrowest equality filter, the other filters checked row by row. SQLite's
// planner has no statistics about skew; the capped counts and the counts table are ours. A
// search is not a driver here: List reads a narrow one whole (gather) or walks it in windows.
func (l *Lister) plan(ctx context.Context, f *ListFilter) (plan, error) {
	if f.inquiryID != "" {
		return plan{driver: "id"}, nil // one row at most
	}
	best, bestN := "", planCap
	var err error
	try := func(name, from string, term func(b *q)) { // after an error, nothing
		var b q
		term(&b)
		n := bestN
		if err == nil {
			n, err = l.cappedCount(ctx, from, b.where(), b.args, bestN)
		}
		if n < bestN && err == nil {
			best, bestN = name, n
		}
	}
	if !f.ExpiringBefore.IsZero() {
		try("expiring", expiringFrom, func(b *q) { f.expiringTerm(b, true) })
	}
	if f.AssignedTo != 0 {
		try("assigned", "inquiries i", func(b *q) { b.add(assignedTerm, f.AssignedTo) })
	}
	if err != nil || best != "" {
		return plan{driver: best}, err
	}
	p := plan{driver: "order"}
	if len(f.Statuses) > 0 || f.TemplateID != "" || f.CreatedBy != 0 {
		all, err := l.tableCounts(ctx, "", 0)
		if err != nil {
			return plan{}, err
		}
		p.rows = int64(1 << 62)
		if len(f.Statuses) > 0 {
			p.driver, p.rows = "status", all.Total(f.Statuses)
		}
		narrower := func(name, template string, creator int64) { // after an error, nothing
			var c *StatusCounts
			if err == nil {
				c, err = l.tableCounts(ctx, template, creator)
			}
			if err == nil && c.Total(nil) < p.rows {
				p.driver, p.rows = name, c.Total(nil)
			}
		}
		if f.TemplateID != "" {
			narrower("template", f.TemplateID, 0)
		}
		if f.CreatedBy != 0 {
			narrower("creator", "", f.CreatedBy)
		}
		if err != nil {
			return plan{}, err
		}
		p.sparse = p.rows*4 < all.Total(nil)
	}
	// Sorted by update, a creation range that ends in the past makes the walk skip every row
	// updated since: sort the driver's rows in the range instead when they are fewer.
	if f.Sort == SortUpdated && !f.CreatedTo.IsZero() {
		var in, skip q
		p.driverTerm(f, &in)
		p.driverTerm(f, &skip)
		f.createdTerms(&in, true)
		skip.add("i.updated_at >= ?", f.CreatedTo.UnixMilli())
		rangeN, err := l.cappedCount(ctx, "inquiries i", in.where(), in.args, rangeCap)
		if err != nil {
			return plan{}, err
		}
		skipN, err := l.cappedCount(ctx, "inquiries i", skip.where(), skip.args, rangeCap)
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
		} else if p.driver == "expiring" {
			from = expiringFrom
		}
		arms = append(arms, f.keysArm(from, &b))
		args = append(args, b.args...)
	}
	rangeIndexed := f.Sort == SortCreated || p.sortRange
	switch p.driver {
	case "expiring":
		arm(func(b *q) {
			f.expiringTerm(b, true)
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
	default: // the driver's own index; for "order", the sort index itself
		arm(func(b *q) {
			f.statusTerm(b, false)
			f.otherTerms(b, p.driver, rangeIndexed && p.driver != "assigned")
		})
	}
	return f.union(arms), args
}
