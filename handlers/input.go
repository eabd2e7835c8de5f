package handlers

import (
	"slices"
	"strings"
)

// maxSearch is the longest search the list takes, in bytes (a trigram search of more only costs).
const maxSearch = 200

// cleanSearch turns control characters (NUL, line breaks, tabs, DEL) into spaces: they mean
// nothing in a search, and NUL cannot go into the full-text query.
func cleanSearch(q string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, q))
}

// filterErrors says in one sentence what of the filter could not be used.
func filterErrors(errs map[string]string) string {
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	msgs := make([]string, len(keys))
	for i, k := range keys {
		msgs[i] = errs[k]
	}
	return strings.Join(msgs, " ")
}
