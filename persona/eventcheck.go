package persona

// What a webhook's inquiry must carry to be applied: a status the console knows and dates that
// are dates. An API answer is read tolerantly; a webhook that fails these is refused (400), so
// Persona retries it and the Webhooks page says why, instead of it being stored as applied.

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// maxEventName bounds an event's name; Persona's are a few words (inquiry.marked-for-review).
const maxEventName = 100

// KnownStatuses are the inquiry statuses of every version Linkdesk reads. A webhook with
// another status is refused (so Persona retries and the Webhooks page shows why) rather
// than applied as a status the console cannot show or act on.
var KnownStatuses = []string{StatusCreated, StatusPending, StatusCompleted, StatusFailed,
	StatusExpired, StatusNeedsReview, StatusApproved, StatusDeclined}

// readable refuses an inquiry from a webhook that the console could not apply faithfully.
func (q *Inquiry) readable() error {
	switch {
	case q.Status == "":
		return errors.New("the inquiry has no status")
	case !slices.Contains(KnownStatuses, q.Status):
		return fmt.Errorf("status %s is not one Linkdesk knows (%s)", quoteID(q.Status), strings.Join(KnownStatuses, ", "))
	case len(q.unreadable) > 0:
		return errors.New(strings.Join(q.unreadable, "; "))
	}
	return nil
}

// timeAttrs are the inquiry's timestamps.
var timeAttrs = []string{"created-at", "updated-at", "started-at", "completed-at", "failed-at",
	"marked-for-review-at", "decisioned-at", "expired-at", "redacted-at", "expires-at"}

// unreadableAttrs lists the inquiry attributes that are present but cannot be read.
func unreadableAttrs(attrs map[string]json.RawMessage) []string {
	var out []string
	for _, k := range timeAttrs {
		raw, ok := attrs[k]
		if !ok || isNull(raw) {
			continue
		}
		var s string
		if decodeJSON(raw, &s) != nil || parseTime(s) == nil {
			out = append(out, fmt.Sprintf("%s %s is not a date", k, quoteID(string(raw))))
		}
	}
	if raw, ok := attrs["fields"]; ok && !isNull(raw) {
		var m map[string]json.RawMessage
		if decodeJSON(raw, &m) != nil {
			out = append(out, "fields is not an object")
		}
	}
	return out
}
