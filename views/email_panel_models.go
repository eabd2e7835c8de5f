package views

// Models of the detail page's Email link panel.

import (
	"strconv"
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

// RecipientID is the id of the row's recipient cell, which describes its Retry and Cancel
// buttons: their names stay "Retry" and "Cancel", and a screen reader says which email each acts on.
func (r EmailRow) RecipientID() string { return "email-" + strconv.FormatInt(r.ID, 10) + "-to" }
