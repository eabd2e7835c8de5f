package handlers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/views"
)

// Live updates: the hub (package live) hears which inquiry changed (webhook, refresh,
// reconcile, staff action, email), and every open list or detail page that shows that inquiry
// gets its row re-rendered over server-sent events within a moment.

// listEvents streams the rows of one list page as they change. The page's own query comes
// along (the filter, the page's cursor, and since: when the page was rendered); each changed
// inquiry on the page is sent as the event "inq-<id>" (the row's sse-swap), and on the first
// page a new or newly matching inquiry is sent as "new", to be put on top.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	lr := parseList(r, now, s.expiringWindow())
	ctx := r.Context()
	v, ok := s.admitStream(w, r)
	if !ok {
		return
	}
	defer s.live.Release(v.account())
	sub := s.live.Subscribe("")
	defer s.live.Unsubscribe(sub)
	seen := s.live.Version() // read before the rows: what is rendered from them is of this version
	rows, err := s.shownRows(ctx, r, lr)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	st, ok := s.openStream(w, r)
	if !ok {
		return
	}
	shown := map[string]bool{}
	var top int64 // newest creation time on the page
	for _, row := range rows {
		shown[row.ID] = true
		top = max(top, row.CreatedAt.UnixMilli())
	}
	firstPage := lr.f.After.IsZero() && lr.f.Before.IsZero()
	empty := len(rows) == 0 // the page shows its empty-list message
	sendRow := func(event string, row *db.ListRow) error {
		rv := s.caseRowView(ctx, *row)
		c := views.ListRowCells(rv) // a shown row swaps its cells
		kind := "cells "
		if event == "new" {
			c, kind = views.ListRowView(rv), "row "
		}
		// Rendered once for every stream that shows the row.
		b, err := s.live.Shared(seen, kind+row.ID, func() ([]byte, error) { return renderBytes(ctx, c) })
		if err != nil {
			return err
		}
		if event == "new" && empty {
			gone, err := renderBytes(ctx, views.ListEmptyGone())
			if err != nil {
				return err
			}
			b, empty = append(slices.Clip(b), gone...), false // b is shared: never append in place
		}
		return st.send(event, b)
	}
	// The per-status counts follow the changes too: the page's counts element listens for them.
	// Counted once for every stream of the same filter when a change arrives (a shared answer is
	// of the hub's version). A reconnecting stream's catch-up ("own") counts alone.
	sendCountsAs := func(when string) error {
		count := func() ([]byte, error) {
			cv, err := s.countsView(ctx, lr)
			if err != nil {
				return nil, err
			}
			return renderBytes(ctx, views.ListCounts(cv))
		}
		var b []byte
		var err error
		if when == "own" {
			b, err = count()
		} else {
			b, err = s.live.Shared(s.live.Version(), "counts "+when+lr.query.Encode(), count)
		}
		if err != nil {
			return err
		}
		return st.send("counts", b)
	}
	sendCounts := func() error { return sendCountsAs("") }
	// Catch up with what changed between rendering the page (or the last event received,
	// after a reconnect) and opening this stream.
	caught := false
	if since := catchUpFrom(r); since > 0 {
		for i := len(rows) - 1; i >= 0; i-- {
			row := rows[i]
			switch {
			case firstPage && row.CreatedAt.UnixMilli() > since:
				err = sendRow("new", &row)
			case row.SyncedAt.UnixMilli() > since:
				err = sendRow("inq-"+row.ID, &row)
			default:
				continue
			}
			if err != nil {
				return
			}
			caught = true
		}
	}
	// A page without its counts asks for none: the stream sends them as it opens (and again
	// when it caught up with a change; a reconnecting stream's catch-up counts alone).
	if caught || r.URL.Query().Get("counted") == "" {
		when := ""
		if caught {
			when = "own"
		}
		if sendCountsAs(when) != nil {
			return
		}
	}
	// Counts read after a change was published count it (the Lister keeps none from before).
	s.run(ctx, st, sub, v, func(ids []string) error {
		seen = s.live.Version()
		if err := sendCounts(); err != nil {
			return err
		}
		var fresh []*db.ListRow
		for _, id := range ids {
			row, err := s.db.ListRowByID(ctx, id)
			if errors.Is(err, db.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if shown[id] {
				if err := sendRow("inq-"+id, row); err != nil {
					return err
				}
				continue
			}
			if !firstPage {
				continue
			}
			// Sorted by creation, only a row that belongs on top goes there; sorted by update,
			// any change does.
			if lr.f.Sort != db.SortUpdated && row.CreatedAt.UnixMilli() < top {
				continue
			}
			match, err := s.lister.Matches(ctx, lr.f, id)
			if err != nil {
				return err
			}
			if match {
				fresh = append(fresh, row)
			}
		}
		// Oldest first, so that each goes on top of the one before.
		slices.SortFunc(fresh, func(a, b *db.ListRow) int {
			if lr.f.Sort == db.SortUpdated {
				return a.UpdatedAt.Compare(b.UpdatedAt)
			}
			return a.CreatedAt.Compare(b.CreatedAt)
		})
		for _, row := range fresh {
			shown[row.ID] = true
			top = max(top, row.CreatedAt.UnixMilli())
			if err := sendRow("new", row); err != nil {
				return err
			}
		}
		return nil
	})
}

// shownRows returns the rows the list page shows, as they are now: those its stream's URL names
// (shown, ids in page order), or for a URL without them the page read again.
func (s *Server) shownRows(ctx context.Context, r *http.Request, lr listRequest) ([]db.ListRow, error) {
	if ids, ok := r.URL.Query()["shown"]; ok {
		list := strings.Split(ids[0], ",")
		if ids[0] == "" {
			list = nil
		}
		return s.db.ListRowsByID(ctx, list[:min(len(list), db.MaxListLimit)])
	}
	page, err := s.lister.List(ctx, lr.f)
	if err != nil {
		return nil, err
	}
	return page.Rows, nil
}

// inquiryEvents streams one inquiry's changes for its detail page: the event "status" carries
// the re-rendered status badge (views.LiveStatus), and "changed" carries the inquiry id, for
// parts of the page that refetch themselves (hx-trigger="sse:changed").
func (s *Server) inquiryEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx := r.Context()
	v, ok := s.admitStream(w, r)
	if !ok {
		return
	}
	defer s.live.Release(v.account())
	sub := s.live.Subscribe(id)
	defer s.live.Unsubscribe(sub)
	q, err := s.db.GetInquiry(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	st, ok := s.openStream(w, r)
	if !ok {
		return
	}
	send := func(q *db.Inquiry) error {
		b, err := renderBytes(ctx, views.LiveStatus(string(q.Status)))
		if err != nil {
			return err
		}
		if err := st.send("status", b); err != nil {
			return err
		}
		return st.send("changed", []byte(q.ID))
	}
	if since := catchUpFrom(r); since > 0 && q.SyncedAt.UnixMilli() > since {
		if send(q) != nil {
			return
		}
	}
	s.run(ctx, st, sub, v, func([]string) error {
		q, err := s.db.GetInquiry(ctx, id)
		if err != nil {
			return err
		}
		return send(q)
	})
}
