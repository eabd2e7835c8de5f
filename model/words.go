package model

import "strings"

// Text is the status in words for people, as a label ("Needs review"); an unknown status is
// shown as it came, a missing one as "Unknown".
func (s Status) Text() string {
	switch s {
	case Created:
		return "Created"
	case Pending:
		return "Pending"
	case Completed:
		return "Completed"
	case Failed:
		return "Failed"
	case Expired:
		return "Expired"
	case NeedsReview:
		return "Needs review"
	case Approved:
		return "Approved"
	case Declined:
		return "Declined"
	case "":
		return "Unknown"
	}
	return string(s)
}

// Phrase says the status as it reads after "is": "This inquiry is waiting for review", not
// "is needs review".
func (s Status) Phrase() string {
	switch s {
	case Created:
		return "not started yet"
	case Pending:
		return "in progress"
	case NeedsReview:
		return "waiting for review"
	}
	return strings.ToLower(s.Text())
}
