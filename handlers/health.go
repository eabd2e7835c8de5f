package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.db.Ping(r.Context()); err != nil {
		s.log.ErrorContext(r.Context(), "health check failed", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("database unavailable\n"))
		return
	}
	w.Write([]byte("ok\n"))
}

// livez says the process answers; it checks nothing else, so a busy database never gets the
// process restarted.
func (s *Server) livez(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}

// readyz says whether the console should get traffic: the database takes writes, every
// migration is applied and it is not shutting down. Each check is a line, failures in words.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	var out strings.Builder
	ready := true
	check := func(name string, err error) {
		if err != nil {
			ready = false
			fmt.Fprintf(&out, "%s: failing: %v\n", name, err)
			s.log.WarnContext(r.Context(), "not ready", "check", name, "err", err)
			return
		}
		fmt.Fprintf(&out, "%s: ok\n", name)
	}
	check("database writable", s.db.Writable(ctx))
	check("migrations applied", s.db.SchemaCurrent(ctx))
	select {
	case <-s.live.Closed():
		check("not shutting down", errors.New("the console is shutting down"))
	default:
		check("not shutting down", nil)
	}
	if !ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	io.WriteString(w, out.String())
}
