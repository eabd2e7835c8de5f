package views

// A verification's checks and Persona's codes in words.

import (
	"slices"
	"strings"
)

// Check is one check of a verification.
type Check struct {
	Name, Status string
	Reasons      []string
	Required     bool
}

// Attention reports whether a reviewer should look at the check: anything but passed or not
// applicable (failed above all).
func (c Check) Attention() bool { return c.Status != "passed" && c.Status != "not_applicable" }

// checkRank orders checks for a reviewer: failed first, then others needing attention, then
// passed, then not applicable; Persona's order within each.
func checkRank(c Check) int {
	switch c.Status {
	case "failed":
		return 0
	case "passed":
		return 2
	case "not_applicable":
		return 3
	}
	return 1
}

// OrderChecks returns the checks with the ones that need attention first.
func OrderChecks(cs []Check) []Check {
	out := slices.Clone(cs)
	slices.SortStableFunc(out, func(a, b Check) int { return checkRank(a) - checkRank(b) })
	return out
}

// codeWords are the parts of Persona's codes that are not plain words.
var codeWords = map[string]string{"id": "ID", "aamva": "AAMVA", "mrz": "MRZ", "po": "PO", "real": "REAL", "pdf": "PDF", "ssn": "SSN", "tin": "TIN"}

// CodeText turns one of Persona's codes (check names, reasons, statuses) into words:
// "database_identity_comparison" is "Database identity comparison".
func CodeText(code string) string {
	ws := strings.FieldsFunc(code, func(r rune) bool { return r == '_' || r == '-' })
	for i, w := range ws {
		if up, ok := codeWords[w]; ok {
			ws[i] = up
		}
	}
	s := strings.Join(ws, " ")
	if s == "" {
		return code
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ReasonsText is a check's reasons in words.
func ReasonsText(rs []string) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = CodeText(r)
	}
	return strings.Join(out, ", ")
}

// VerificationStatusText is a verification's or check's status in words.
func VerificationStatusText(s string) string {
	switch s {
	case "requires_retry":
		return "Needs a retry"
	case "initiated":
		return "Started"
	}
	return CodeText(s)
}

func verificationName(t string) string {
	switch t {
	case "verification/government-id":
		return "Government ID"
	case "verification/selfie":
		return "Selfie"
	case "verification/database":
		return "Database check"
	case "verification/document":
		return "Document"
	}
	return t
}
