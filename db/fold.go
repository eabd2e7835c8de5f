// Letters folded for search, in Go, for the index and the query alike.

package db

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"
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
// Each character folds on its own, so the index's triggers and the search's check, which fold
// thousands of names a second, fold each letter of the common alphabets once (see folded).
func Fold(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			b.Grow(len(s))
			b.WriteString(s[:i])
			for _, r := range s[i:] {
				if r < utf8.RuneSelf {
					b.WriteByte(byte(unicode.ToLower(r)))
				} else {
					b.WriteString(foldRune(r))
				}
			}
			return b.String()
		}
	}
	return s
}

// folded keeps the folded text of the letters of the alphabets names are mostly written in
// (below U+2000: Latin, Greek, Cyrillic, Hebrew, Arabic, Indic...); others are folded each time.
var folded sync.Map

func foldRune(r rune) string {
	if f, ok := folded.Load(r); ok {
		return f.(string)
	}
	// A transformer holds state: one per letter folded.
	f, _, _ := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC),
		folder.Replace(string(unicode.ToLower(r))))
	if r < 0x2000 {
		folded.Store(r, f)
	}
	return f
}

func init() {
	// Every connection the driver opens from now on has it; the search index's triggers need it
	// (a write to inquiries through another SQLite program fails with "no such function").
	// The writer's own driver registers it too (openWriter).
	sqlite.MustRegisterDeterministicScalarFunction("linkdesk_fold", 1, foldSQL)
}

// foldSQL is Fold as the SQL function linkdesk_fold.
func foldSQL(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
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
}
