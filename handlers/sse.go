package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/live"
)

// keepAlive is how often an idle stream sends a comment, so proxies keep it open and a dead
// client is noticed.
const keepAlive = 20 * time.Second

// coalesce is how long a stream gathers changes before sending them.
const coalesce = 50 * time.Millisecond

// CloseStreams ends every open event stream; call it when the server shuts down (streams never
// go idle, so http.Server.Shutdown would otherwise wait for them until its deadline).
func (s *Server) CloseStreams() { s.live.Close() }

// viewer is who an open stream was opened for, to check again while it stays open.
type viewer struct {
	sid  string
	user *db.User
}

// account keys the viewer's stream slots: the cap is per account, not per sign-in.
func (v viewer) account() string { return strconv.FormatInt(v.user.ID, 10) }

// admitStream takes a stream slot for the request's session, or answers 429 in words; the
// caller releases the slot when the stream ends.
func (s *Server) admitStream(w http.ResponseWriter, r *http.Request) (viewer, bool) {
	sess, _ := s.cookies.Get(r, sessionCookie)
	sid, _ := sess.Values["sid"].(string)
	v := viewer{sid: sid, user: currentUser(r)}
	if v.user == nil || sid == "" { // authorize lets no one here without a session
		s.errorPage(w, r, http.StatusUnauthorized, "Signed out", "Your session has ended. Sign in again.")
		return v, false
	}
	err := s.live.Acquire(v.account())
	if err == nil {
		return v, true
	}
	msg := fmt.Sprintf("Your account already has %d live-update connections open, the most one account may have (in every browser it is signed in on). Close some Linkdesk tabs; the pages still work, they just do not update by themselves.", s.live.Limits().PerAccount)
	if errors.Is(err, live.ErrTotalStreams) {
		msg = "The console is serving as many live-update connections as it can. The pages still work; reload in a minute for live updates."
		s.log.WarnContext(r.Context(), "event stream refused: total cap reached", "cap", s.live.Limits().Total)
	}
	w.Header().Set("Retry-After", "30")
	s.errorPage(w, r, http.StatusTooManyRequests, "Too many live connections", msg)
	return v, false
}

// stillSignedIn reports whether the stream's session still stands as it did when the stream
// opened: not signed out, disabled, re-roled, reset (those delete the session row) or expired.
func (s *Server) stillSignedIn(ctx context.Context, v viewer) bool {
	row, u, err := s.db.SessionUser(ctx, v.sid)
	if err != nil {
		if !errors.Is(err, db.ErrNotFound) && ctx.Err() == nil {
			s.log.WarnContext(ctx, "event stream: check session", "err", err)
		}
		return false // fail closed: the browser reconnects and is checked from scratch
	}
	now := time.Now()
	return !u.Disabled && u.ID == v.user.ID && u.Role == v.user.Role &&
		now.Sub(row.LastSeenAt) <= s.cfg.IdleTimeout && now.Sub(row.CreatedAt) <= s.cfg.MaxLifetime
}

// stream is one open server-sent events response.
type stream struct {
	w      http.ResponseWriter
	rc     *http.ResponseController
	log    *slog.Logger
	warned bool // an unsafe event was dropped and logged already
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
	st := &stream{w: w, rc: http.NewResponseController(w), log: s.log}
	// Tell EventSource how soon to reconnect after a drop.
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return nil, false
	}
	return st, st.rc.Flush() == nil
}

// errUnsafeField: an event name or id would break out of its line and inject fields.
var errUnsafeField = errors.New("live: event name or id holds a line break or NUL")

// writeEvent writes one server-sent event, refusing (writing nothing) a name or id that holds
// CR, LF or NUL, and splitting data on every line break the format knows (CRLF, CR, LF), so
// that no part of an event can start a field of its own.
func writeEvent(w io.Writer, id, event string, data []byte) error {
	if strings.ContainsAny(id, "\r\n\x00") || strings.ContainsAny(event, "\r\n\x00") {
		return fmt.Errorf("%w: event %q, id %q", errUnsafeField, event, id)
	}
	var b bytes.Buffer
	b.WriteString("id: " + id + "\nevent: " + event + "\n")
	for {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			break
		}
		b.WriteString("data: ")
		b.Write(data[:i])
		b.WriteByte('\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	b.WriteString("data: ")
	b.Write(data)
	b.WriteString("\n\n")
	_, err := w.Write(b.Bytes())
	return err
}

// send writes one event whose data is HTML (one data line per line of it). An event whose
// name is unsafe (an inquiry id with a line break, whoever stored it) is dropped, logged once
// per stream, and the stream goes on.
func (st *stream) send(event string, data []byte) error {
	// The id is the send time: after a drop the browser reconnects with it (Last-Event-ID),
	// and the stream catches up from there rather than from the page's render time.
	err := writeEvent(st.w, strconv.FormatInt(time.Now().UnixMilli(), 10), event, data)
	if errors.Is(err, errUnsafeField) {
		if !st.warned {
			st.warned = true
			st.log.Warn("event stream: unsafe event dropped", "err", err)
		}
		return nil
	}
	if err != nil {
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

// run waits for changes and keep-alive ticks until the client goes, the server stops, the
// viewer's session no longer stands, or the stream has lived its lifetime.
func (s *Server) run(ctx context.Context, st *stream, sub *live.Subscriber, v viewer, handle func(ids []string) error) {
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	recheck := time.NewTicker(s.live.Limits().Recheck)
	defer recheck.Stop()
	// At the end of its life the stream closes and EventSource reconnects, through sign-in
	// checks like any request. A little jitter keeps streams opened together from all
	// reconnecting at once.
	life := s.live.Limits().Lifetime
	end := time.NewTimer(life - rand.N(life/10+1))
	defer end.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.live.Closed():
			return
		case <-end.C:
			return
		case <-recheck.C:
			if !s.stillSignedIn(ctx, v) {
				return
			}
		case <-tick.C:
			if st.comment() != nil {
				return
			}
		case <-sub.Wake():
			// Changes come in bursts (a flow's steps, a sync page): gather them briefly.
			select {
			case <-time.After(coalesce):
			case <-ctx.Done():
				return
			}
			// Nothing goes out to a session revoked since the last periodic check.
			if !s.stillSignedIn(ctx, v) {
				return
			}
			if err := handle(sub.Take()); err != nil {
				if !errors.Is(err, context.Canceled) {
					s.log.DebugContext(ctx, "event stream ended", "err", err)
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
