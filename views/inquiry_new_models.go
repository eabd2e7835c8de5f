package views

// Models of the New inquiry page.

import (
	"time"

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
