package views

// Models of the detail page's Email link panel.

import (
	"time"
)

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

// ActionLabel names a row's action button ("Retry", "Cancel") after the email it acts on, so a
// screen reader, and a test finding the button by name, tells the rows apart (to the second: a
// resend within the minute goes to the same address).
func (r EmailRow) ActionLabel(verb string) string {
	return verb + " the email to " + r.Recipient + " queued " + r.QueuedAt.UTC().Format("2006-01-02 15:04:05 UTC")
}
