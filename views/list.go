package views

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ListFilter echoes the list's filter form as typed.
type ListFilter struct {
	Statuses  []string
	Template  string
	CreatedBy string
	From, To  string // YYYY-MM-DD
	Search    string
	Sort      string // created, updated
	Expiring  bool
	Batch     string // a bulk job's id, and the file's name
	Assigned  string // the assignee's user id
	Tag       string
	BatchName string
	Errors    map[string]string // per field: from, to
	// Window is the "Expiring soon" triage window in words ("4 h").
	Window string
}

// HasStatus reports whether the status is selected.
func (f ListFilter) HasStatus(s string) bool {
	for _, v := range f.Statuses {
		if v == s {
			return true
		}
	}
	return false
}

// ListRow is one inquiry in the list, its texts ready to show.
type ListRow struct {
	ID          string
	ReferenceID string
	Name        string
	Email       string
	Template    string
	Status      string
	Created     time.Time
	Expiry      string // "expires in 3 h", "expired", "—"
	EmailState  string // newest email's state, "" when none was sent
	CreatedBy   string // "" when made outside the console
	Synced      string // "synced 3 min ago"
	Error       string // why a refresh failed, in words
	Assignee    string // who works on it, "" for nobody
	Tags        []string
	// ExpiringSoon marks an open inquiry whose link expires within the triage window.
	ExpiringSoon bool
}

// Label is what the row is known by: its reference ID, or the inquiry id when it has none.
func (r ListRow) Label() string {
	if r.ReferenceID != "" {
		return r.ReferenceID
	}
	return r.ID
}

// QuickFilter is one of the one-click filters above the list.
type QuickFilter struct {
	Label, URL, Title string
	Active            bool
	Count             string // its count, when known ("" otherwise)
}

// ListView is the inquiry list page.
type ListView struct {
	SavedViews []SavedViewLink // beside the quick filters
	CanExpire  bool            // reviewers and admins: "Expire" on selected rows
	Workers    []Option        // staff an inquiry may be given to

	Filter    ListFilter
	Query     string // the filter as a query string, cursors left out
	Rows      []ListRow
	OlderURL  string // "" when there is no older page
	NewerURL  string
	Templates []Option
	Staff     []Option
	Statuses  []Option
	// Empty is "none" when the cache holds no inquiry at all, "filtered" when the filters
	// match none, "" otherwise.
	Empty     string
	CanCreate bool
	Since     int64 // when the page was rendered (unix ms), for the live stream to catch up
	FirstPage bool  // new inquiries appear live only on the first page
	Notices   []string
	Quick     []QuickFilter
	// Counts are shown with the rows when the page has them; else its stream sends them.
	Counts *CountsView
	// Summary is the filters in one line ("Status: Created, Pending", "Template: KYC"), shown
	// while the filter form is folded.
	Summary []string
}

// StreamURL is the page's live stream: its filter, when it was rendered, and the rows it shows,
// which the stream keeps current without reading the page again.
func (v ListView) StreamURL() string {
	ids := make([]string, len(v.Rows))
	for i, r := range v.Rows {
		ids[i] = r.ID
	}
	counted := ""
	if v.Counts != nil {
		counted = "&counted=1" // the stream need not send them as it opens
	}
	return "/events/inquiries?" + v.Query + amp(v.Query) + "since=" + strconv.FormatInt(v.Since, 10) +
		"&shown=" + url.QueryEscape(strings.Join(ids, ",")) + counted
}

// StatusCount is one status with how many inquiries match the rest of the filter.
type StatusCount struct {
	Status string
	Label  string
	N      string // "1,234" or "2,000+"
	URL    string // the list filtered to this status
	Active bool
}

// CountsView is the per-status summary above the list.
type CountsView struct {
	Items []StatusCount
	Total string // for the current filter, e.g. "1,234" or "10,000+"; empty when not counted
	Note  string // how far counting went, when it stopped at a cap
}

// WebhookCount is one verdict's tally on the Webhooks page.
type WebhookCount struct {
	Label  string
	N      int64
	LastAt time.Time
	Detail string
}

// WebhookEventRow is one stored event.
type WebhookEventRow struct {
	ID, Name, InquiryID, Verdict string
	EventAt, ReceivedAt          time.Time
}

// WebhooksView is the admins' Webhooks page.
type WebhooksView struct {
	URL          string // where Persona must send events
	Secrets      int    // webhook secrets configured
	LastReceived time.Time
	Pending      int64
	Counts       []WebhookCount
	Events       []WebhookEventRow
	Sync         string // the reconciler's state in words
	Settings     WebhookSettingsView
	// Replication is serve --replicate-to's state in words ("" when off); ReplicationWarn: behind.
	Replication     string
	ReplicationWarn bool
	Now             time.Time
}

// WebhookSettingsView is what Persona says about the webhook that sends to this console.
type WebhookSettingsView struct {
	Error                           string // Persona could not be asked, in words
	Found                           bool
	ID, Status, Version, Inflection string
	Allowlist                       string // relationship allowlist: include_all or include_none
	Events, Blocklist               []string
	Warnings                        []string // what the console cannot use, and what to change
}

// Span says a duration in words: "4 h", "90 min", "2 days".
func Span(d time.Duration) string {
	switch {
	case d < time.Hour || d%time.Hour != 0 && d < 10*time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " min"
	case d < 48*time.Hour || d%(24*time.Hour) != 0:
		return strconv.Itoa(int(d.Hours())) + " h"
	default:
		return strconv.Itoa(int(d.Hours()/24)) + " days"
	}
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// Thousands writes n with thousands separators: 1234567 → "1,234,567".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
