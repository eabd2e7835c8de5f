package views

import (
	"regexp"
	"strings"
	"time"
)

// CaseView is the detail page's team work: who has the inquiry, its notes, and whether its
// link is about to expire.
type CaseView struct {
	InquiryID  string
	Assignee   string // "" when nobody has it
	AssigneeID int64
	MeID       int64
	Staff      []Option // who may be given it
	CanAssign  bool
	Notes      []NoteView
	CanNote    bool
	NoteText   string // kept after a refused note
	NoteError  string
	// ExpiryWarning says the link expires within the triage window; CanSendFresh offers
	// "Send fresh link" beside it (to FreshTo, made once by FreshKey).
	ExpiryWarning    string
	CanSendFresh     bool
	FreshTo          string
	FreshKey         string
	FreshSeen        string
	AssignError      string
	AssignedToMe     bool
	AssignedToMeNote string
}

// NoteView is one note of the thread.
type NoteView struct {
	ID        int64
	N         int // its number in the thread, for unique control names
	Author    string
	At        time.Time
	Edited    bool
	Parts     []TextPart
	CanChange bool
}

// TextPart is a run of a note's text: plain, or a link (URL set).
type TextPart struct {
	Text string
	URL  string
}

var noteLinkRe = regexp.MustCompile(`https?://[^\s<>"']+`)

// LinkParts splits plain text into runs, making each http(s) address a link; nothing in the
// text is ever treated as HTML (templ escapes every run).
func LinkParts(s string) []TextPart {
	var out []TextPart
	last := 0
	for _, m := range noteLinkRe.FindAllStringIndex(s, -1) {
		url := strings.TrimRight(s[m[0]:m[1]], ".,;:!?)]}")
		end := m[0] + len(url)
		if m[0] > last {
			out = append(out, TextPart{Text: s[last:m[0]]})
		}
		out = append(out, TextPart{Text: url, URL: url})
		last = end
	}
	if last < len(s) {
		out = append(out, TextPart{Text: s[last:]})
	}
	return out
}

// RowsSummary is the confirmation before an action on many rows.
type RowsSummary struct {
	Action   string // fresh-link, expire, tag, assign
	Verb     string // what the confirm button says
	Heading  string
	Summary  string // "12 selected: 9 will get a fresh link, 3 cannot: 2 approved, 1 without email"
	Items    []RowsItem
	Key      string
	Tag      string
	AssignTo string
	Back     string
	Nothing  bool // none of the rows can take the action
}

// RowsItem is one selected inquiry in a summary or result.
type RowsItem struct {
	ID, Label, Outcome string
	OK                 bool
}

// RowsResult is what an action on many rows did.
type RowsResult struct {
	Heading string
	Summary string
	Items   []RowsItem
	Back    string
}

// (Not "inquiries": the nav's promised link "Inquiries" must match one element.)
func queueWords(n int) string {
	if n == 1 {
		return "case assigned to you"
	}
	return "cases assigned to you"
}

// quickCount is a quick filter's count as shown after its label.
func quickCount(n string) string {
	if n == "" {
		return ""
	}
	return " " + n
}

// SavedViewLink is a saved view beside the quick filters.
type SavedViewLink struct {
	ID        int64
	Name      string
	URL       string
	Title     string // whose it is, and whether shared
	Count     string
	Active    bool
	CanRemove bool
}

// SaveViewInput is what was typed into "Save view", and what came of it.
type SaveViewInput struct {
	Name   string
	Shared bool
	Error  string
	Saved  string // "View "Mine" saved."
}
