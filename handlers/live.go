package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/views"
)

// The live hub: the inquiry service tells it which inquiry changed (webhook, refresh,
// reconcile, staff action), and every open list or detail page that shows that inquiry gets
// its row re-rendered over server-sent events within a moment.

// keepAlive is how often an idle stream sends a comment, so proxies keep it open and a dead
// client is noticed.
const keepAlive = 20 * time.Second

// coalesce is how long a stream gathers changes before sending them.
const coalesce = 50 * time.Millisecond

type hub struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed chan struct{} // closed when the server shuts down: every stream ends
	once   sync.Once
}

// subscriber collects the changed ids a stream has not handled yet; publishing never blocks.
type subscriber struct {
	only    string // a detail stream cares about one inquiry
	mu      sync.Mutex
	pending map[string]struct{}
	wake    chan struct{}
}

func newHub() *hub {
	return &hub{subs: map[*subscriber]struct{}{}, closed: make(chan struct{})}
}

func (h *hub) subscribe(only string) *subscriber {
	sub := &subscriber{only: only, pending: map[string]struct{}{}, wake: make(chan struct{}, 1)}
	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	return sub
}

func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	delete(h.subs, sub)
	h.mu.Unlock()
}

// publish is registered with the inquiry service's OnChange.
func (h *hub) publish(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		if sub.only != "" && sub.only != id {
			continue
		}
		sub.mu.Lock()
		sub.pending[id] = struct{}{}
		sub.mu.Unlock()
		select {
		case sub.wake <- struct{}{}:
		default:
		}
	}
}

func (h *hub) close() { h.once.Do(func() { close(h.closed) }) }

func (sub *subscriber) take() []string {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	ids := make([]string, 0, len(sub.pending))
	for id := range sub.pending {
		ids = append(ids, id)
	}
	clear(sub.pending)
	slices.Sort(ids)
	return ids
}

// inquiryChanged is told by the inquiry service of every changed inquiry.
func (s *Server) inquiryChanged(id string) {
	s.lister.Changed()
	s.listCache.changed()
	s.hub.publish(id)
}

// CloseStreams ends every open event stream; call it when the server shuts down (streams never
// go idle, so http.Server.Shutdown would otherwise wait for them until its deadline).
func (s *Server) CloseStreams() { s.hub.close() }

// stream is one open server-sent events response.
type stream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func acceptsEventStream(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

func (s *Server) openStream(w http.ResponseWriter, r *http.Request) (*stream, bool) {
	if !acceptsEventStream(r) {
		s.errorPage(w, r, http.StatusNotAcceptable, "Not a page", "This address sends live updates to an open page; open the inquiry list instead.")
		return nil, false
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events through at once
	w.WriteHeader(http.StatusOK)
	st := &stream{w: w, rc: http.NewResponseController(w)}
	// Tell EventSource how soon to reconnect after a drop.
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return nil, false
	}
	return st, st.rc.Flush() == nil
}

// send writes one event whose data is HTML (one data line per line of it).
func (st *stream) send(event string, data []byte) error {
	var b bytes.Buffer
	// The id is the send time: after a drop the browser reconnects with it (Last-Event-ID),
	// and the stream catches up from there rather than from the page's render time.
	b.WriteString("id: ")
	b.WriteString(strconv.FormatInt(time.Now().UnixMilli(), 10))
	b.WriteString("\nevent: ")
	b.WriteString(event)
	b.WriteByte('\n')
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		b.WriteString("data: ")
		b.Write(bytes.TrimRight(line, "\r"))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	if _, err := st.w.Write(b.Bytes()); err != nil {
		return err
	}
	return st.rc.Flush()
}

func (st *stream) comment() error {
	if _, err := st.w.Write([]byte(": keep-alive\n\n")); err != nil {
		return err
	}
	return st.rc.Flush()
}

func renderBytes(ctx context.Context, c templ.Component) ([]byte, error) {
	var b bytes.Buffer
	err := c.Render(ctx, &b)
	return b.Bytes(), err
}

// run waits for changes and keep-alive ticks until the client goes or the server stops.
func (s *Server) run(ctx context.Context, st *stream, sub *subscriber, handle func(ids []string) error) {
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.hub.closed:
			return
		case <-tick.C:
			if st.comment() != nil {
				return
			}
		case <-sub.wake:
			// Changes come in bursts (a flow's steps, a sync page): gather them briefly.
			select {
			case <-time.After(coalesce):
			case <-ctx.Done():
				return
			}
			if err := handle(sub.take()); err != nil {
				if !errors.Is(err, context.Canceled) {
					s.log.Debug("event stream ended", "err", err)
				}
				return
			}
		}
	}
}

// catchUpFrom is when the client last knew the page (unix ms; 0: unknown).
func catchUpFrom(r *http.Request) int64 {
	since, _ := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64)
	last, _ := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64)
	return max(since, last)
}

// listEvents streams the rows of one list page as they change. The page's own query comes
// along (the filter, the page's cursor, and since: when the page was rendered); each changed
// inquiry on the page is sent as the event "inq-<id>" (the row's sse-swap), and on the first
// page a new or newly matching inquiry is sent as "new", to be put on top.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	lr := parseList(r, now)
	ctx := r.Context()
	sub := s.hub.subscribe("")
	defer s.hub.unsubscribe(sub)
	page, err := s.lister.List(ctx, lr.f)
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
	for _, row := range page.Rows {
		shown[row.ID] = true
		top = max(top, row.CreatedAt.UnixMilli())
	}
	firstPage := lr.f.After.IsZero() && lr.f.Before.IsZero()
	empty := len(page.Rows) == 0 // the page shows its empty-list message
	sendRow := func(event string, row *db.ListRow) error {
		c := views.ListRowCells(rowView(*row, time.Now())) // a shown row swaps its cells
		if event == "new" {
			c = views.ListRowView(rowView(*row, time.Now()))
		}
		b, err := renderBytes(ctx, c)
		if err != nil {
			return err
		}
		if event == "new" && empty {
			gone, err := renderBytes(ctx, views.ListEmptyGone())
			if err != nil {
				return err
			}
			b, empty = append(b, gone...), false
		}
		return st.send(event, b)
	}
	// Catch up with what changed between rendering the page (or the last event received,
	// after a reconnect) and opening this stream.
	if since := catchUpFrom(r); since > 0 {
		for i := len(page.Rows) - 1; i >= 0; i-- {
			row := page.Rows[i]
			switch {
			case firstPage && row.CreatedAt.UnixMilli() > since:
				err = sendRow("new", &row)
			case row.SyncedAt.UnixMilli() > since:
				err = sendRow("inq-"+row.ID, &row)
			}
			if err != nil {
				return
			}
		}
	}
	s.run(ctx, st, sub, func(ids []string) error {
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

// inquiryEvents streams one inquiry's changes for its detail page: the event "status" carries
// the re-rendered status badge (views.LiveStatus), and "changed" carries the inquiry id, for
// parts of the page that refetch themselves (hx-trigger="sse:changed").
func (s *Server) inquiryEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx := r.Context()
	sub := s.hub.subscribe(id)
	defer s.hub.unsubscribe(sub)
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
		b, err := renderBytes(ctx, views.LiveStatus(q.Status))
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
	s.run(ctx, st, sub, func([]string) error {
		q, err := s.db.GetInquiry(ctx, id)
		if err != nil {
			return err
		}
		return send(q)
	})
}
