package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/linkdesk/linkdesk/db"
)

// byPathID loads what the path's {id} names with get. A malformed or unknown id is answered
// 404, another failure 500; either way it returns false and the handler stops.
func byPathID[T any](s *Server, w http.ResponseWriter, r *http.Request, get func(context.Context, int64) (T, error)) (T, bool) {
	var zero T
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return zero, false
	}
	v, err := get(r.Context(), id)
	switch {
	case errors.Is(err, db.ErrNotFound):
		s.notFound(w, r)
		return zero, false
	case err != nil:
		s.serverError(w, r, err)
		return zero, false
	}
	return v, true
}
