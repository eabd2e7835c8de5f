package handlers

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/views"
)

// listCounts answers the per-status summary that the list loads after its rows.
func (s *Server) listCounts(w http.ResponseWriter, r *http.Request) {
	v, err := s.countsView(r.Context(), parseList(r, time.Now(), s.expiringWindow()))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.ListCounts(v), nil)
}

// countsView counts the filter's inquiries per status; the counts request and the live stream
// (which sends it again as inquiries change) share it.
func (s *Server) countsView(ctx context.Context, lr listRequest) (views.CountsView, error) {
	c, err := s.lister.Counts(ctx, lr.f)
	if err != nil {
		return views.CountsView{}, err
	}
	return countsViewOf(lr, c), nil
}

// countsViewOf shows counts read for lr's filter.
func countsViewOf(lr listRequest, c *db.StatusCounts) views.CountsView {
	// Capped counts are of the first rows read, not a sample of all: a status none of them had
	// may still have many, so it is "not counted" rather than "0+".
	num := func(n int64) string {
		switch {
		case !c.Capped:
			return views.Thousands(n)
		case n == 0:
			return "not counted"
		}
		return views.Thousands(n) + "+"
	}
	v := views.CountsView{Total: num(c.Total(lr.f.Statuses))}
	if v.Total == "not counted" {
		v.Total = "" // the note says why there is no total
	}
	if c.Capped {
		v.Note = "Counting stopped at the first " + views.Thousands(c.Total(nil)) + " matches; narrow the search or the filters for exact numbers."
	}
	statuses := append([]string{}, knownStatuses...)
	for st := range c.N {
		if !slices.Contains(statuses, st) {
			statuses = append(statuses, st)
		}
	}
	for _, st := range statuses {
		n, ok := c.N[st]
		if !ok && !slices.Contains(lr.f.Statuses, st) {
			continue
		}
		q := url.Values{}
		for k, vs := range lr.query {
			if k != "status" {
				q[k] = vs
			}
		}
		q.Set("status", st)
		v.Items = append(v.Items, views.StatusCount{Status: st, Label: views.StatusText(st), N: num(n),
			URL: "/inquiries?" + q.Encode(), Active: len(lr.f.Statuses) == 1 && lr.f.Statuses[0] == st})
	}
	return v
}
