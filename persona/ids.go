package persona

import (
	"fmt"
	"strings"
)

// Persona ids are a type prefix and random letters and digits (inq_ plus 28 Base58 characters,
// others 24). Ids arrive from webhooks and API answers and end up in SQLite, HTML, URLs and
// event-stream lines, so anything else is refused where it enters: a newline in an id would
// otherwise let its sender write its own lines into a page's event stream.

// Id prefixes of the objects the console reads (persona-api.md section 9.2).
const (
	PrefixInquiry         = "inq_"
	PrefixEvent           = "evt_"
	PrefixVerification    = "ver_"
	PrefixInquiryTemplate = "itmpl_"
	PrefixTemplateVersion = "itmplv_"
	PrefixLegacyTemplate  = "tmpl_"
	PrefixSession         = "iqse_"
	PrefixAccount         = "act_"
)

// knownPrefixes are every prefix Persona is known to use.
var knownPrefixes = []string{
	"inq_", "itmpl_", "itmplv_", "tmpl_", "blu_", "iqse_", "ver_", "vtmpl_", "vtmplv_", "doc_",
	"self_", "rep_", "rptp_", "act_", "acttp_", "txn_", "txntp_", "case_", "ctmpl_", "evt_",
	"wbh_", "wbhsec_", "api_", "req_", "wfr_", "wfl_", "wfv_", "cqueue_", "user_", "env_",
	"the_", "theset_", "dev_", "mprt_",
}

// templatePrefixes are what an inquiry's template relationship may hold: the inquiry template,
// a legacy template (tmpl_, blu_ in old examples) or, failing both, the template version.
var templatePrefixes = []string{PrefixInquiryTemplate, PrefixLegacyTemplate, "blu_", PrefixTemplateVersion}

// MaxIDChars bounds the random part of an id (Persona's are 24 or 28 characters today and
// Persona may lengthen them).
const MaxIDChars = 64

// ValidID reports whether s is prefix followed by 1 to MaxIDChars ASCII letters and digits.
func ValidID(prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) == 0 || len(rest) > MaxIDChars {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// ValidIDOf reports whether s is a valid id with one of prefixes.
func ValidIDOf(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if ValidID(p, s) {
			return true
		}
	}
	return false
}

// KnownID reports whether s is a valid id of any object Persona is known to have.
func KnownID(s string) bool { return ValidIDOf(s, knownPrefixes...) }

// checkID returns an error in words unless s is a valid id with one of prefixes; what names
// it ("inquiry id", "event id", ...).
func checkID(what, s string, prefixes ...string) error {
	if ValidIDOf(s, prefixes...) {
		return nil
	}
	return fmt.Errorf("%s %s is malformed: Persona ids are %s followed by 1 to %d letters and digits",
		what, quoteID(s), strings.Join(prefixes, " or "), MaxIDChars)
}

// checkIDs is checkID for each of ids.
func checkIDs(what string, ids []string, prefixes ...string) error {
	for _, id := range ids {
		if err := checkID(what, id, prefixes...); err != nil {
			return err
		}
	}
	return nil
}

// quoteID quotes a refused id for messages and logs: control characters escaped, and cut short
// so a hostile sender cannot fill a log line.
func quoteID(s string) string {
	const max = 80
	if len(s) > max {
		return fmt.Sprintf("%q…", s[:max])
	}
	return fmt.Sprintf("%q", s)
}
