package sandbox

import (
	"net/http"
	"strconv"
)

// overTagLimit refuses a request that would create a tag once the organization has its limit
// of active tags (Persona's changelog of 2025-09-29: 1000, answered with a 422). Tags already
// in use may still be added anywhere.
func (s *Sandbox) overTagLimit(names []string) *apiResult {
	active := map[string]bool{}
	for _, q := range s.inquiries {
		for _, t := range q.tags {
			active[t] = true
		}
	}
	n := len(active)
	for _, t := range names {
		if !active[t] {
			active[t] = true
			n++
		}
	}
	if n <= s.tagLimit || len(names) == 0 {
		return nil
	}
	r := errPointer(http.StatusUnprocessableEntity, "Record invalid",
		"Tag limit reached: the organization already has "+strconv.Itoa(s.tagLimit)+" active tags and cannot create more", "/data/attributes/tags")
	return &r
}
