// Letters folded for search, in Go, for the index and the query alike.

package db

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"unicode/utf8"

	"modernc.org/sqlite"
)

// folder spells the letters that have no decomposition, and so keep their shape through the
// index's remove_diacritics, as people type them on a keyboard without them: "soren" finds
// Søren, "aesir" Æsir, "eda" Eða, "lukasz" Łukasz, "strasse" Straße. Letters that decompose
// (é, ñ, ż, ó, ć) the index folds itself.
var folder = strings.NewReplacer(
	"ø", "o", "Ø", "O", "æ", "ae", "Æ", "AE", "œ", "oe", "Œ", "OE",
	"ð", "d", "Ð", "D", "đ", "d", "Đ", "D", "þ", "th", "Þ", "TH",
	"ł", "l", "Ł", "L", "ß", "ss", "ẞ", "SS", "ı", "i", "ħ", "h", "Ħ", "H",
)

// Fold returns s with those letters spelled out; the search index's triggers call it (as the
// SQL function linkdesk_fold) on what they index, and ftsMatch on what is searched.
func Fold(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return folder.Replace(s)
		}
	}
	return s
}

func init() {
	// Every connection the driver opens from now on has it; the triggers of migration 031 need
	// it (a write to inquiries through another SQLite program fails with "no such function").
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
