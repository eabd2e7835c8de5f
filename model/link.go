package model

// LinkKind is the kind of hosted-flow link a status calls for.
type LinkKind int

const (
	// LinkNone: the person has nothing left to do.
	LinkNone LinkKind = iota
	// LinkInquiry: the inquiry's own link, which opens the flow until the person starts.
	LinkInquiry
	// LinkOneTime: a one-time link that continues where the person stopped.
	LinkOneTime
	// LinkResumeOneTime: resume the expired inquiry first, then a one-time link.
	LinkResumeOneTime
)

// LinkFor is the one decision of which link a status calls for: the inquiry link while it is
// created, a one-time link once the person started (resuming first when it expired), none
// otherwise.
func LinkFor(s Status) LinkKind {
	switch s {
	case Created:
		return LinkInquiry
	case Pending:
		return LinkOneTime
	case Expired:
		return LinkResumeOneTime
	}
	return LinkNone
}

// Fresh reports whether the link is made anew at the time it is used (a one-time link), so a
// link recorded earlier cannot be reused as is.
func (k LinkKind) Fresh() bool { return k == LinkOneTime || k == LinkResumeOneTime }
