package views

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/linkdesk/linkdesk/model"
)

// Option is a value and its label for a select.
type Option struct {
	Value, Label string
}

// NewInquiry is the New inquiry page.
type NewInquiry struct {
	Form      Form
	Key       string // idempotency key carried by the form
	Templates []Option
	// RequireReference makes the Reference ID field required.
	RequireReference bool
	// NotConfigured explains why inquiries cannot be created yet.
	NotConfigured string
	Guard         *GuardView
	// Countries are the picker's choices: each country's English name (the value typed) and
	// its ISO code.
	Countries []Option
}

// GuardView asks the staff member what to do about an existing inquiry for the reference ID.
type GuardView struct {
	Kind      model.Guard
	Existing  InquiryRow
	CanCreate bool
	// ClaimedBy and ClaimedAt say who started creating one for the person (in-progress).
	ClaimedBy string
	ClaimedAt time.Time
	// OutcomeAt and OutcomeBy say when and by whom Existing was declined or failed
	// (prior-outcome); OutcomeBy is "" when Persona decided.
	OutcomeAt time.Time
	OutcomeBy string
	// Differs lists what was typed that the open inquiry holds otherwise (use-existing,
	// resume): its link may belong to someone else, so staff choose what to do.
	Differs []string
}

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

// EmailPanel is the "Email link" part of the detail page.
type EmailPanel struct {
	InquiryID  string
	CanSend    bool   // agents and admins, while the person still needs a link
	CanAct     bool   // retry and cancel (agents and admins)
	Compose    bool   // the form is open (after "Email link")
	NoSendNote string // why no email can be sent, when CanSend is false for a staff member who could
	Recipient  string
	Error      string // what is wrong with the recipient
	FormError  string // why the email could not be queued, in words
	Subject    string
	Text       string
	// PreviewNote says how the email sent will differ from the preview (a fresh one-time link).
	PreviewNote string
	MailtoURL   string // "" when there is no link to put in it yet
	Log         []EmailRow
	Poll        bool   // an email is on its way: the send log refreshes itself
	Reminders   string // the reminder schedule in words, empty when none
	MailNote    string // e.g. no mail server configured: emails wait in the outbox
	Key         string // the compose form's idempotency key
}

// EmailRow is one line of a send log.
type EmailRow struct {
	ID            int64
	InquiryID     string
	Recipient     string
	Basis         string // why it went to Recipient, in words ("" when not recorded)
	Subject       string
	Kind          string
	State         string
	Attempts      int
	LastError     string
	QueuedAt      time.Time
	SentAt        time.Time
	NextAttemptAt time.Time
	QueuedBy      string
	CanRetry      bool
	CanCancel     bool
}

// Decision is the confirmation page for approve, decline and expire.
type Decision struct {
	Inquiry InquiryRow
	Action  string // approve, decline, expire
	Comment string
}

// TemplateRow is a known template on the Templates page.
type TemplateRow struct {
	ID           string
	Name         string
	IsDefault    bool
	ReminderDays string
}

// SettingsView is the Settings page.
type SettingsView struct {
	Form           Form
	MaskedKey      string
	Environment    string
	WebhookSecrets int
	Dev            bool
	Email          Form
	Preview        *EmailPreview

	TwoStepRequired bool // admins require two-step sign-in (views/account.templ)
	SSO             SSOSettings
	Retention       Form // the Data retention section (settings_retention.templ)
}

// EmailPreview shows a rendered link email.
type EmailPreview struct {
	Subject, Text, HTML string
	Error               string
	// HTMLURL serves the HTML version as its own document, for a frame with its own policy
	// (a srcdoc frame inherits the page's, which blocks the email's inline styles).
	HTMLURL string
}

// StatusText is a status in words for people (model.Status.Text). It takes any string type
// because verifications' statuses share the badge.
func StatusText[S ~string](s S) string { return model.Status(s).Text() }

// When formats a time for tables; zero is "—".
func When(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// LinkExpiry says where an inquiry's link stands: how long it has while the person still has
// work, "expired" once the inquiry expired, and "" when no link is needed.
func LinkExpiry(status model.Status, expires, now time.Time) string {
	switch {
	case status.PersonHasWork():
		return Until(expires, now)
	case status == model.Expired:
		return "expired"
	}
	return ""
}

// Until says how long until t in words: "expires in 23 h", "expired".
func Until(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "no expiry"
	}
	d := t.Sub(now)
	switch {
	case d <= 0:
		return "expired"
	case d < time.Minute:
		return "expires in under a minute"
	case d < time.Hour:
		return fmt.Sprintf("expires in %d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("expires in %d h", int(d.Hours()))
	default:
		return fmt.Sprintf("expires in %d days", int(d.Hours()/24))
	}
}

// Ago says how long ago t was: "3 min ago".
func Ago(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
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

// Check is one check of a verification.
type Check struct {
	Name, Status string
	Reasons      []string
	Required     bool
}

// Attention reports whether a reviewer should look at the check: anything but passed or not
// applicable (failed above all).
func (c Check) Attention() bool { return c.Status != "passed" && c.Status != "not_applicable" }

// checkRank orders checks for a reviewer: failed first, then others needing attention, then
// passed, then not applicable; Persona's order within each.
func checkRank(c Check) int {
	switch c.Status {
	case "failed":
		return 0
	case "passed":
		return 2
	case "not_applicable":
		return 3
	}
	return 1
}

// OrderChecks returns the checks with the ones that need attention first.
func OrderChecks(cs []Check) []Check {
	out := slices.Clone(cs)
	slices.SortStableFunc(out, func(a, b Check) int { return checkRank(a) - checkRank(b) })
	return out
}

// codeWords are the parts of Persona's codes that are not plain words.
var codeWords = map[string]string{"id": "ID", "aamva": "AAMVA", "mrz": "MRZ", "po": "PO", "real": "REAL", "pdf": "PDF", "ssn": "SSN", "tin": "TIN"}

// CodeText turns one of Persona's codes (check names, reasons, statuses) into words:
// "database_identity_comparison" is "Database identity comparison".
func CodeText(code string) string {
	ws := strings.FieldsFunc(code, func(r rune) bool { return r == '_' || r == '-' })
	for i, w := range ws {
		if up, ok := codeWords[w]; ok {
			ws[i] = up
		}
	}
	s := strings.Join(ws, " ")
	if s == "" {
		return code
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ReasonsText is a check's reasons in words.
func ReasonsText(rs []string) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = CodeText(r)
	}
	return strings.Join(out, ", ")
}

// VerificationStatusText is a verification's or check's status in words.
func VerificationStatusText(s string) string {
	switch s {
	case "requires_retry":
		return "Needs a retry"
	case "initiated":
		return "Started"
	}
	return CodeText(s)
}

func verificationName(t string) string {
	switch t {
	case "verification/government-id":
		return "Government ID"
	case "verification/selfie":
		return "Selfie"
	case "verification/database":
		return "Database check"
	case "verification/document":
		return "Document"
	}
	return t
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
