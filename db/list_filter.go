// The inquiry list's filter, cursor and page types, and the SQL builder they share.

package db

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/model"
)

// Sort orders of the inquiry list (always newest first).
const (
	SortCreated = "created"
	SortUpdated = "updated"
)

// PersonWorkStatuses are the statuses in which the person still has something to do
// (model.Status.PersonHasWork): the list's "open", not the reconciler's (MayChange).
var PersonWorkStatuses = model.Strings(model.PersonWorkStatuses)

// personWorkIn is PersonWorkStatuses as a literal SQL list: the partial index on expires_at is
// declared with literals, and only a literal IN lets the planner use it.
var personWorkIn = "('" + strings.Join(PersonWorkStatuses, "', '") + "')"

// ListFilter selects and pages the inquiry list. Zero values mean "any".
type ListFilter struct {
	Statuses    []string
	TemplateID  string
	CreatedBy   int64
	Batch       int64     // the bulk job that created the inquiries
	AssignedTo  int64     // the staff member the inquiries are assigned to (assignments)
	Tag         string    // one of the inquiry's tags, exactly
	CreatedFrom time.Time // inclusive
	CreatedTo   time.Time // exclusive
	// ExpiringBefore keeps open inquiries whose link expires between Now and this time.
	ExpiringBefore time.Time
	Now            time.Time
	// Search finds people: every word must match the reference ID, the name or the email,
	// ignoring case and accents (see needles for what a word matches); an inquiry id pasted
	// alone finds that inquiry.
	Search string
	Sort   string // SortCreated (default) or SortUpdated
	// Keyset paging: After continues with older rows than the cursor, Before with newer ones.
	After, Before Cursor
	Limit         int

	needles   []string // what each word of Search is found as (see needles), set by normalize
	match     string   // the FTS5 expression of those, set by normalize
	inquiryID string   // Search when it is an inquiry id, set by normalize instead of match
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
	// Counts are the filter's per-status counts (as Counts returns them) when the page's read
	// found them too: a narrow search read whole.
	Counts *StatusCounts
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
	// each needs its row read (at a million rows, 2,000 of them took 6-8 ms of a 16 ms search).
	SearchCountCap = 1000
)

// Variables so tests can reach every plan with a small table.
var (
	planCap  = 3000
	rangeCap = 20000
)

// inquiryIDRe is an inquiry id as Persona writes it (inq_ and letters and digits); the search
// indexes no ids, so one pasted is looked up by the table's key.
var inquiryIDRe = regexp.MustCompile(`^inq_[0-9A-Za-z]+$`)

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
	f.needles, f.match, f.inquiryID = nil, "", ""
	if inquiryIDRe.MatchString(f.Search) {
		f.inquiryID = f.Search
	} else {
		f.needles = needles(f.Search)
		f.match = ftsMatch(f.needles)
	}
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
