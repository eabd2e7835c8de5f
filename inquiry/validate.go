package inquiry

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// MaxTags bounds the tags one inquiry is created with: enough to sort by, not a store.
const MaxTags = 20

var (
	phoneRe = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	tagRe   = regexp.MustCompile(`^[\p{L}\p{N} _.:/-]{1,64}$`)
)

// Validate applies the New inquiry form's rules to in (all but the template, which the caller
// checks against the known ones): it normalises the phone number and country code, parses the
// comma-separated tags into in.Tags, and returns the problems in words keyed by form field
// (reference_id, note, tags, or a FieldKeys key), or an empty map. The form and bulk send share
// it, so a row of a CSV file is refused exactly when the form would refuse it.
func Validate(in *CreateInput, tags string, requireRef bool) map[string]string {
	errs := map[string]string{}
	in.ReferenceID = strings.TrimSpace(in.ReferenceID)
	if in.ReferenceID == "" && requireRef {
		errs["reference_id"] = "Enter the person's reference ID: the ID your own system gives them."
	} else if len(in.ReferenceID) > 200 {
		errs["reference_id"] = "Use at most 200 characters."
	}
	if b := in.Fields["birthdate"]; b != "" {
		if t, err := time.Parse("2006-01-02", b); err != nil {
			errs["birthdate"] = "Enter the date as YYYY-MM-DD, e.g. 1977-08-31."
		} else if t.After(time.Now()) || t.Year() < 1900 {
			errs["birthdate"] = "Enter a birthdate in the past (after 1900)."
		}
	}
	if e := in.Fields["email-address"]; e != "" && ValidRecipient(e) != nil {
		errs["email-address"] = "Enter an email address like name@example.com."
	}
	if p := in.Fields["phone-number"]; p != "" {
		p = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "", ".", "").Replace(p)
		if !phoneRe.MatchString(p) {
			errs["phone-number"] = "Enter the number with its country code, e.g. +14155551234."
		} else {
			in.Fields["phone-number"] = p
		}
	}
	if c := in.Fields["address-country-code"]; c != "" {
		if code, ok := CountryCode(c); !ok {
			errs["address-country-code"] = "Choose a country from the list, or enter its English name or two-letter code, e.g. Germany or DE."
		} else {
			in.Fields["address-country-code"] = code
		}
	}
	for k, v := range in.Fields {
		if len(v) > 200 && errs[k] == "" {
			errs[k] = "Use at most 200 characters."
		}
		if hasControl(v, false) && errs[k] == "" {
			errs[k] = controlWords
		}
	}
	if hasControl(in.ReferenceID, false) && errs["reference_id"] == "" {
		errs["reference_id"] = controlWords
	}
	if len(in.Note) > 2000 {
		errs["note"] = "Use at most 2000 characters."
	} else if hasControl(in.Note, true) {
		errs["note"] = controlWords
	}
	seen := map[string]bool{}
	for _, t := range strings.Split(tags, ",") {
		if t = strings.TrimSpace(t); t == "" || seen[t] {
			continue
		}
		seen[t] = true
		if !tagRe.MatchString(t) && errs["tags"] == "" {
			errs["tags"] = "Tags may use letters, digits, spaces and - _ . : / (up to 64 characters each)."
		}
		in.Tags = append(in.Tags, t)
	}
	if len(in.Tags) > MaxTags && errs["tags"] == "" {
		errs["tags"] = fmt.Sprintf("Use at most %d tags (%d entered).", MaxTags, len(in.Tags))
	}
	return errs
}

// controlWords refuses a value with a control character: a line break in a name or reference
// ID can forge an email header or a CSV row, and NUL ends it early in other systems.
const controlWords = "Remove the line break or other control character (such as NUL or tab) from it."

// hasControl reports a C0 control character or DEL in s; breaks allows tab and line breaks
// (a note is several lines).
func hasControl(s string, breaks bool) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		if breaks && (r == '\t' || r == '\n' || r == '\r') {
			return false
		}
		return r < 0x20 || r == 0x7f
	})
}
