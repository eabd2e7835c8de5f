package views

// Models of the inquiry detail page and its decision page.

import (
	"strings"
	"time"

	"github.com/a-h/templ"
)

// InquiryRow is an inquiry in short.
type InquiryRow struct {
	ID          string
	ReferenceID string
	Name        string
	Email       string
	Status      string
	Template    string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	CreatedBy   string
}

// Fact is one labelled value on the detail page.
type Fact struct {
	Label, Value string
	Href         templ.SafeURL // when set, the value is a link to it
	At           time.Time     // when set, the value is this moment, shown in the viewer's zone
}

// LinkView is a link handed out.
type LinkView struct {
	Kind      string
	URL       string
	ExpiresAt time.Time
	IssuedBy  string
	IssuedAt  time.Time
}

// AuditRow is one audit entry.
type AuditRow struct {
	At      time.Time
	Actor   string
	Action  string
	Target  string
	Outcome string
	Detail  string
}

// InquiryDetail is the detail page.
type InquiryDetail struct {
	Inquiry   InquiryRow
	Facts     []Fact // Persona timestamps and the like
	Fields    []Fact // prefilled and collected fields
	Note      string
	Tags      []string
	SyncedAt  time.Time
	Link      *LinkView // the current link, if any
	LinkNote  string    // why there is no link, or what kind it is
	Links     []LinkView
	Audit     []AuditRow
	CanLink   bool
	CanDecide bool
	Decidable bool // the status allows approve/decline
	Expirable bool
	Error     string // a Persona error in words, from the last action
	Email     *EmailPanel
	// Loaded is the status the page was opened with; Changed: the inquiry is no longer in it
	// (the note stays however many live updates follow).
	Loaded  string
	Changed bool
	// NewLinkNote says what New link would do (or why there is none): the same inquiry link,
	// or a one-time link replacing the last.
	NewLinkNote string
	// ResumeTo is where "Resume and email" sends a fresh one-time link in one step (a started
	// or expired inquiry with a known address); ResumeKey makes a double submit send once;
	// ResumeNote says what it does, fitting the facts.
	ResumeTo, ResumeKey, ResumeNote string
	Case                            CaseView // assignment, notes, expiry warning (casework.templ)
}

// PersonTitle names the person an inquiry is for, as the detail page's heading and tab do:
// "Alexander Sample · usr_ABC123", or whichever of the two is known, else the inquiry id.
func PersonTitle(q InquiryRow) string {
	switch {
	case q.Name != "" && q.ReferenceID != "":
		return q.Name + " · " + q.ReferenceID
	case q.Name != "":
		return q.Name
	case q.ReferenceID != "":
		return q.ReferenceID
	}
	return "Inquiry " + q.ID
}

// Decision is the confirmation page for approve, decline and expire.
type Decision struct {
	Inquiry InquiryRow
	Action  string // approve, decline, expire
	Comment string
}

// Comparison is one line of "Entered | On the ID".
type Comparison struct {
	Label, Entered, OnID string
	Result               string // CompareSame, CompareDiffers, or "" when there is nothing to compare
}

const (
	CompareSame    = "same"
	CompareDiffers = "differs"
)

// Differences names the lines that differ, e.g. "name and birthdate", or "".
func Differences(cs []Comparison) string {
	var ds []string
	for _, c := range cs {
		if c.Result == CompareDiffers {
			ds = append(ds, strings.ToLower(c.Label))
		}
	}
	switch len(ds) {
	case 0:
		return ""
	case 1:
		return ds[0]
	}
	return strings.Join(ds[:len(ds)-1], ", ") + " and " + ds[len(ds)-1]
}

func decisionVerb(a string) string {
	switch a {
	case "approve":
		return "Approve"
	case "decline":
		return "Decline"
	}
	return "Expire"
}
