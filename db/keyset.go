package db

import "strings"

// newestFirst finishes a keyset page query over base: the filters in where, then
// id < before when before is set, newest first, at most limit rows (100 when limit
// is unset or over 500). It returns the query and its arguments.
func newestFirst(base, id string, where []string, args []any, before int64, limit int) (string, []any) {
	if before != 0 {
		where = append(where, id+" < ?")
		args = append(args, before)
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	q := base
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q + " ORDER BY " + id + " DESC LIMIT ?", append(args, limit)
}
