package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/views"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.db.Ping(r.Context()); err != nil {
		if s.clientGone(r, err) {
			return
		}
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
			if !s.clientGone(r, err) { // a probe that hung up is no sign of trouble
				s.log.WarnContext(r.Context(), "not ready", "check", name, "err", err)
			}
			return
		}
		fmt.Fprintf(&out, "%s: ok\n", name)
	}
	check("database writable", s.db.Writable(ctx))
	check("migrations applied", s.db.SchemaCurrent(ctx))
	if s.replication != nil {
		var err error
		if st := s.replication.Status(); st.Failing {
			err = fmt.Errorf("the replica %s has not been in step for %s %s", st.Target, st.Lag.Round(time.Second), st.LastError)
		}
		check("replication", err)
	}
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

// replicationWords says how replication is doing, for the Webhooks page; "" when off.
func (s *Server) replicationWords(now time.Time) (words string, warn bool) {
	if s.replication == nil {
		return "", false
	}
	st := s.replication.Status()
	switch {
	case st.LastOK.IsZero():
		words = "Streaming to " + st.Target + "; not in step yet."
	case st.Lag == 0:
		words = "Streaming to " + st.Target + "; in step " + views.Ago(st.LastOK, now) + "."
	default:
		words = "Streaming to " + st.Target + "; last in step " + views.When(st.LastOK) + " (" + views.Ago(st.LastOK, now) + ")."
	}
	if st.Failing {
		words += " The replica is falling behind: changes since then are not safe yet."
		if st.LastError != "" {
			words += " " + st.LastError
		}
	}
	return words, st.Failing
}
