package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
)

type ctxKey int

const userKey ctxKey = iota

// withUser is ctx with u as the signed-in user.
func withUser(ctx context.Context, u *db.User) context.Context {
	return context.WithValue(ctx, userKey, u)
}

// currentUser returns the signed-in user, or nil.
func currentUser(r *http.Request) *db.User {
	u, _ := r.Context().Value(userKey).(*db.User)
	return u
}

func roleAccess(role model.Role) Access {
	switch role {
	case model.Admin:
		return Admin
	case model.Reviewer:
		return Reviewer
	case model.Agent:
		return Agent
	default:
		return Viewer
	}
}

// authorize is the one place roles are checked: signed-out visitors of a protected page go to
// sign-in (htmx requests are told to redirect), signed-in staff without the role get 403.
func (s *Server) authorize(need Access, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if need == Public {
			if s.parseForm(w, r) {
				next.ServeHTTP(w, r)
			}
			return
		}
		u := currentUser(r)
		if u == nil {
			target := "/login"
			if r.Method == http.MethodGet && r.URL.Path != "/" {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			if r.Header.Get("HX-Request") == "true" {
				w.Header().Set("HX-Redirect", target)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			if r.Method != http.MethodGet {
				s.errorPage(w, r, http.StatusUnauthorized, "Signed out", "Your session has ended. Sign in again and repeat what you were doing.")
				return
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		if roleAccess(u.Role) < need {
			s.errorPage(w, r, http.StatusForbidden, "Not allowed", "Your role ("+string(u.Role)+") cannot open this page. Ask an admin if you need it.")
			return
		}
		if s.parseForm(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

// loadSession finds the session cookie's server-side row and its user; expired, revoked or
// disabled sessions count as signed out.
func (s *Server) loadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, _ := s.cookies.Get(r, sessionCookie)
		sid, _ := sess.Values["sid"].(string)
		if sid == "" {
			next.ServeHTTP(w, r)
			return
		}
		row, u, err := s.db.SessionUser(r.Context(), sid)
		switch {
		case errors.Is(err, db.ErrNotFound):
			next.ServeHTTP(w, r)
			return
		case err != nil:
			s.serverError(w, r, err)
			return
		}
		now := time.Now()
		if u.Disabled || now.Sub(row.LastSeenAt) > s.cfg.IdleTimeout || now.Sub(row.CreatedAt) > s.cfg.MaxLifetime {
			s.staff.EndSession(r.Context(), sid)
			next.ServeHTTP(w, r)
			return
		}
		// One write a minute at most keeps the idle timer honest without a write per request;
		// more often under a short idle timeout, or an active user would be signed out.
		if now.Sub(row.LastSeenAt) > min(time.Minute, s.cfg.IdleTimeout/4) {
			if err := s.staff.TouchSession(r.Context(), sid); err != nil && !s.clientGone(r, err) {
				s.log.WarnContext(r.Context(), "touch session", "err", err)
			}
		}
		next.ServeHTTP(w, r.WithContext(withUser(r.Context(), u)))
	})
}

// securityHeaders sets the headers every answer carries; https (the base URL's scheme) adds
// HSTS, so browsers never try the console over plain HTTP again.
func securityHeaders(next http.Handler, https bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if https {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// maxBody caps request bodies; forms are small, and the webhook endpoint sets its own cap.
const maxBody = 1 << 20

// parseForm reads a posted form before any handler sees it, for every route, so the handlers'
// r.PostFormValue calls (which drop the parse error) only ever read a form that arrived whole:
// a body over maxBody, or one that cannot be read, is answered here in words and the handler
// never runs, instead of acting on an empty form (e.g. saving empty email wording as defaults).
// Other bodies (the webhook's JSON) are left for their handler.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch ct {
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(maxBody)
	default:
		return true
	}
	if err == nil {
		return true
	}
	if s.clientGone(r, err) {
		return false
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		s.log.InfoContext(r.Context(), "form too large", "method", r.Method, "path", r.URL.Path)
		s.errorPage(w, r, http.StatusRequestEntityTooLarge, "Form too large",
			fmt.Sprintf("This form is too large: Linkdesk accepts up to %d KiB here, so nothing was saved or sent. Shorten what you typed or pasted and try again.", bodyLimit(r)>>10))
		return false
	}
	s.log.InfoContext(r.Context(), "form not readable", "method", r.Method, "path", r.URL.Path, "err", err)
	s.errorPage(w, r, http.StatusBadRequest, "Form not readable",
		"Linkdesk could not read this form, so nothing was saved or sent. Reload the page and try again.")
	return false
}

// bodyLimit is the most a request to r's route may send.
func bodyLimit(r *http.Request) int64 {
	if r.Method == http.MethodPost && (r.URL.Path == "/bulk/check" || r.URL.Path == "/bulk/start") {
		return maxUpload // a CSV file of up to 10 MB
	}
	return maxBody
}

func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, bodyLimit(r))
		}
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach Flush for server-sent events.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// accessLog writes one line per request, gives it its request id (echoed in X-Request-ID) and
// records its timing by route. The query string is left out: it can carry tokens
// (the setup link).
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{id: s.requestID(r), route: "unmatched"} // observe.go
		w.Header().Set("X-Request-ID", info.id)
		r = r.WithContext(context.WithValue(r.Context(), reqKey, info))
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		took := time.Since(start)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Int("bytes", rec.bytes),
			slog.Duration("duration", took))
		if s.metrics != nil {
			s.metrics.Request(info.route, rec.status, took)
		}
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "The console hit an unexpected error. Nothing was lost; try again, and tell an admin if it keeps happening.")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	s.log.WarnContext(r.Context(), "cross-origin request refused", "method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"))
	s.errorPage(w, r, http.StatusForbidden, "Request refused", "This request came from another site, so it was refused to protect your account. Go back to Linkdesk and try again there.")
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "Page not found", "There is nothing at "+r.URL.Path+". Check the address, or go back to the inquiries.")
}
