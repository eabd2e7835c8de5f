package inquiry

import (
	"strings"

	"github.com/linkdesk/linkdesk/db"
)

// Difference is one detail typed for a person that an open inquiry for the same reference ID
// holds otherwise: handing out that inquiry's link would give one person's prefilled link to
// someone else.
type Difference struct {
	Field  string // a FieldKeys key
	Label  string // "Email", "First name", …
	OnFile string // the inquiry's value ("" when it has none)
	Typed  string
}

// String says the difference in words: `Email: "a@x.test" on file, "b@x.test" typed`.
func (d Difference) String() string {
	onFile := "none"
	if d.OnFile != "" {
		onFile = `"` + d.OnFile + `"`
	}
	return d.Label + ": " + onFile + ` on file, "` + d.Typed + `" typed`
}

// compared are the details that say who a link is for, in the order they are listed.
var compared = []struct{ key, label string }{
	{"name-first", "First name"}, {"name-last", "Last name"}, {"email-address", "Email"}, {"birthdate", "Birthdate"},
}

// Differences compares what was typed for a person (name, email, birthdate) with the open
// inquiry q's. A detail left empty differs from nothing; a name or birthdate the inquiry lacks
// is filled in, not a difference; an email the inquiry lacks is one, since its link would go
// to an address that is not its own. Case and spacing do not count.
func Differences(q *db.Inquiry, typed map[string]string) []Difference {
	var out []Difference
	for _, c := range compared {
		t := strings.Join(strings.Fields(typed[c.key]), " ")
		if t == "" {
			continue
		}
		have := q.Fields[c.key]
		if c.key == "email-address" && q.Email != "" {
			have = q.Email
		}
		have = strings.Join(strings.Fields(have), " ")
		if have == "" && c.key != "email-address" || strings.EqualFold(have, t) {
			continue
		}
		out = append(out, Difference{Field: c.key, Label: c.label, OnFile: have, Typed: t})
	}
	return out
}

// DifferencesText lists ds in words, separated by semicolons.
func DifferencesText(ds []Difference) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.String()
	}
	return strings.Join(parts, "; ")
}

// OwnAddress reports whether addr is the inquiry's own email address.
func OwnAddress(q *db.Inquiry, addr string) bool {
	return q.Email != "" && strings.EqualFold(strings.TrimSpace(addr), strings.TrimSpace(q.Email))
}
