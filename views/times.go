package views

// Times and durations in words.

import (
	"fmt"
	"time"

	"github.com/linkdesk/linkdesk/model"
)

// whenLayout is how When writes a time, and how LocalText finds it again in a sentence.
const whenLayout = "2006-01-02 15:04 UTC"

// When formats a time for tables; zero is "—".
func When(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(whenLayout)
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
