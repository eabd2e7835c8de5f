package handlers

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/a-h/templ"

	"github.com/linkdesk/linkdesk/views"
)

const sessionCookie = "linkdesk"

// page fills the layout's view model for the current request.
func (s *Server) page(r *http.Request, title, nav string) views.Page {
	p := s.layout(r, title, nav)
	if p.Me != nil {
		p.Assigned = s.assignedCount(r, p.Me.ID)
	}
	return p
}

// layout is page without the header's count, which a page served from the list's cache
// already shows.
func (s *Server) layout(r *http.Request, title, nav string) views.Page {
	p := views.Page{Title: title, Nav: nav, Dev: s.cfg.Dev, Asset: s.assets.URL}
	if u := currentUser(r); u != nil {
		p.Me = &views.Me{ID: u.ID, Name: u.Name, Email: u.Email, Role: string(u.Role)}
	}
	p.Env = s.inq.Settings().Environment()
	return p
}

// isFragment reports whether htmx asked for a part of a page (but not a history restore, which
// needs the whole page).
func isFragment(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true"
}

// render writes full for normal requests and fragment (when not nil) for htmx requests. It
// renders into a buffer first so a template error becomes a clean 500, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, full, fragment templ.Component) {
	buf := getBuffer()
	defer putBuffer(buf)
	if err := pick(r, full, fragment).Render(r.Context(), buf); err != nil {
		s.serverError(w, r, err)
		return
	}
	writePage(w, status, buf.Bytes())
}

// buffers are reused for rendering: a list page is about 50 KB, which a new buffer reaches by
// doubling, leaving twice that as garbage on every page.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer {
	b := buffers.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

// putBuffer gives a buffer back once its bytes are written; a rare huge one is dropped.
func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		buffers.Put(b)
	}
}

func pick(r *http.Request, full, fragment templ.Component) templ.Component {
	if fragment != nil && isFragment(r) {
		return fragment
	}
	return full
}

func writePage(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Add("Vary", "HX-Request")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

// clientGone reports whether the request failed only because its client went away (a closed
// tab, an aborted download): nobody is left to read an answer, and nothing is wrong here.
func (s *Server) clientGone(r *http.Request, err error) bool {
	if r.Context().Err() == nil && !errors.Is(err, context.Canceled) {
		return false
	}
	s.log.DebugContext(r.Context(), "client went away", "method", r.Method, "path", r.URL.Path, "err", err)
	return true
}

// errorPage renders a styled error page (or just its body for htmx). It never goes back
// through render or serverError, so a failure here cannot loop: if the page itself does not
// render, the answer is the same words in plain text.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, heading, message string) {
	if r.Context().Err() != nil {
		s.clientGone(r, r.Context().Err())
		return
	}
	e := views.ErrorPage{Status: status, Heading: heading, Message: message}
	buf := getBuffer()
	defer putBuffer(buf)
	if err := pick(r, views.ErrorView(s.page(r, heading, ""), e), views.ErrorBody(e)).Render(r.Context(), buf); err != nil {
		if s.clientGone(r, err) {
			return
		}
		s.log.ErrorContext(r.Context(), "render error page", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, heading+". "+message, status)
		return
	}
	writePage(w, status, buf.Bytes())
}

// serverError logs the detail and shows the person a page in words; a client that has gone
// away gets neither an error line nor a page.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if s.clientGone(r, err) {
		return
	}
	s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "The console could not finish this request. Nothing was lost; try again in a moment, and tell an admin if it keeps happening.")
}

// redirect answers a POST: htmx follows HX-Redirect, browsers a 303.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// flash keeps a one-time message for the next page.
func (s *Server) flash(w http.ResponseWriter, r *http.Request, msg string) {
	sess, _ := s.cookies.Get(r, sessionCookie)
	sess.AddFlash(msg)
	sess.Save(r, w)
}

// takeFlash fills p with a pending flash message, if any.
func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request, p *views.Page) {
	sess, _ := s.cookies.Get(r, sessionCookie)
	// Every pending message, oldest first: one POST redirected elsewhere leaves its message
	// waiting, and the next must not hide it.
	if fl := sess.Flashes(); len(fl) > 0 {
		var msgs []string
		for _, f := range fl {
			if msg, ok := f.(string); ok {
				msgs = append(msgs, msg)
			}
		}
		if len(msgs) > 0 {
			p.Flash, p.FlashKind = strings.Join(msgs, " "), "ok"
		}
		sess.Save(r, w)
	}
}
