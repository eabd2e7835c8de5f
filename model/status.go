// Package model is the console's domain vocabulary: Persona's inquiry statuses and what each
// allows, the link a status calls for, the one freshness rule, and staff roles. It imports
// nothing of ours, so every layer can speak it.
package model

import "time"

// Status is a Persona inquiry status. Values Persona adds later are kept as they come.
type Status string

// Persona's inquiry statuses, in lifecycle order.
const (
	Created     Status = "created"
	Pending     Status = "pending"
	Completed   Status = "completed"
	NeedsReview Status = "needs_review"
	Approved    Status = "approved"
	Declined    Status = "declined"
	Failed      Status = "failed"
	Expired     Status = "expired"
)

// Statuses are the known statuses, in lifecycle order (the list's Status filter offers them).
var Statuses = []Status{Created, Pending, Completed, NeedsReview, Approved, Declined, Failed, Expired}

// Final reports whether Persona will not change the status by itself any more (only staff
// decisions or redaction can).
func (s Status) Final() bool {
	switch s {
	case Approved, Declined, Failed, Expired:
		return true
	}
	return false
}

// MayChange reports whether Persona may still change the status by itself, so the reconciler
// keeps asking (an unknown status counts: better one call too many than a stuck row).
func (s Status) MayChange() bool { return !s.Final() }

// PersonHasWork reports whether the person still has something to do in the hosted flow: the
// list's "open" inquiries, the ones that can expire.
func (s Status) PersonHasWork() bool { return s == Created || s == Pending }

// PersonWorkStatuses are the statuses where PersonHasWork holds, for SQL IN lists.
var PersonWorkStatuses = []Status{Created, Pending}

// Linkable reports whether a link can be handed out (see LinkFor).
func (s Status) Linkable() bool { return LinkFor(s) != LinkNone }

// Remindable reports whether a reminder email makes sense. An expired inquiry is not
// reminded: that would resume it, which is staff's call.
func (s Status) Remindable() bool { return s.PersonHasWork() }

// Decidable reports whether staff may still approve or decline.
func (s Status) Decidable() bool { return s != Approved && s != Declined }

// Stage orders statuses along Persona's lifecycle, to break ties between two versions of an
// inquiry with the same timestamp: the later stage wins. Unknown statuses are stage 0.
func (s Status) Stage() int {
	switch s {
	case Created:
		return 1
	case Pending:
		return 2
	case Completed, Failed, Expired:
		return 3
	case NeedsReview:
		return 4
	case Approved, Declined:
		return 5
	}
	return 0
}

// Version is what the freshness rule compares: when a copy of an inquiry was current, and its
// status.
type Version struct {
	At     time.Time
	Status Status
}

// Newer is the one freshness rule of the cache, shared by webhook apply, sync and refresh: a
// later version time wins; on the same time the later lifecycle stage wins; the same time and
// stage is nothing new. Times compare at millisecond precision, as stored.
func (v Version) Newer(than Version) bool {
	a, b := v.At.UnixMilli(), than.At.UnixMilli()
	if a != b {
		return a > b
	}
	return v.Status.Stage() > than.Status.Stage()
}

// Strings turns statuses into strings (for SQL parameters).
func Strings(ss []Status) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}
