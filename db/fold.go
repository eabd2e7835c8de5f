// Letters folded for search, in Go, for the index and the query alike.

package db

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
	"modernc.org/sqlite"
)

// folder spells the letters that have no decomposition as people type them on a keyboard
// without them: "soren" finds Søren, "aesir" Æsir, "eda" Eða, "lukasz" Łukasz, "strasse" Straße.
var folder = strings.NewReplacer(
	"ø", "o", "æ", "ae", "œ", "oe", "ð", "d", "đ", "d", "þ", "th",
	"ł", "l", "ß", "ss", "ı", "i", "ħ", "h",
)

// Fold returns s as search compares it: lower case, accents taken off (é, ñ, ż, ó, ć: the
// letters that decompose) and those letters spelled out. It is the whole of the comparison: the
// index (its triggers call it as the SQL function linkdesk_fold) matches the folded text
// exactly, so a search found by the index and one checked here in Go agree on every letter.
func Fold(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			s = folder.Replace(strings.ToLower(s))
			// A transformer holds state: one per call (only text with non-ASCII letters gets here).
			s, _, _ = transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
			return s
		}
	}
	return strings.ToLower(s)
}

func init() {
	// Every connection the driver opens from now on has it; the search index's triggers need it
	// (a write to inquiries through another SQLite program fails with "no such function").
	sqlite.MustRegisterDeterministicScalarFunction("linkdesk_fold", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case nil:
			return nil, nil
		case string:
			return Fold(v), nil
		case []byte:
			return Fold(string(v)), nil
		default:
			return nil, fmt.Errorf("linkdesk_fold: text expected, got %T", v)
		}
	})
}
