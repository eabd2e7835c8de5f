// Search: how the list's search box becomes a full-text query (see migration 008).

package db

import (
	"strings"
	"unicode/utf8"
)

// ftsMatch turns a search into an FTS5 MATCH expression over inquiries_fts: every word typed
// must match (several words narrow), each in any of the reference ID, the name or the email,
// ignoring case and accents. A word of three or more characters matches anywhere in them
// ("garcia", "acme.example", "ABC123" in usr_ABC123); trigrams cannot find a shorter one, so
// one or two characters match the start of the reference ID, of the email or of a word of the
// name (the index puts two spaces before each). Each word is an FTS5 string, its quotes
// doubled, so nothing typed is FTS syntax. "" when there is nothing to search.
func ftsMatch(search string) string {
	words := strings.Fields(search)
	terms := make([]string, 0, len(words))
	for _, w := range words {
		n := utf8.RuneCountInString(w)
		w = strings.ReplaceAll(w, `"`, `""`)
		switch n {
		case 1:
			w = "  " + w
		case 2:
			w = " " + w
		}
		terms = append(terms, `"`+w+`"`)
	}
	return strings.Join(terms, " AND ")
}

// ftsFrom drives a query from the search's matches, each joined to its inquiry; the CROSS JOIN
// keeps SQLite from reading inquiries first.
const ftsFrom = "inquiries_fts CROSS JOIN inquiries i ON i.rowid = inquiries_fts.rowid"

// searchTerm adds the search. Indexed, it is the MATCH of a query built on ftsFrom; otherwise a
// residual check of each row that another index found.
func (f *ListFilter) searchTerm(b *q, indexed bool) {
	if indexed {
		b.add("inquiries_fts MATCH ?", f.match)
		return
	}
	b.add("+i.rowid IN (SELECT rowid FROM inquiries_fts WHERE inquiries_fts MATCH ?)", f.match)
}
