package model

// Guard says why Create made no inquiry: one for the reference ID needs attention first. The
// New inquiry page shows each kind its own way, and bulk send records each as a row's outcome.
type Guard string

const (
	GuardUseExisting  Guard = "use-existing"  // created: hand out its link instead
	GuardResume       Guard = "resume"        // pending: resume it with a fresh link
	GuardConfirm      Guard = "confirm"       // completed, approved or in review: ask first
	GuardInProgress   Guard = "in-progress"   // another request is creating one right now: try again
	GuardPriorOutcome Guard = "prior-outcome" // declined or failed before (WarnPrior): ask first
)
