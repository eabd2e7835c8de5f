package handlers

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// reqKey carries a request's *reqInfo through its context.
const reqKey ctxKey = 100

// reqInfo is what the outermost middleware learns about a request: its id, and the route
// pattern the mux chose (for metrics), which is only known further in.
type reqInfo struct {
	id    string
	route string
}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	if info, ok := ctx.Value(reqKey).(*reqInfo); ok {
		return info.id
	}
	return ""
}

// requestID is the X-Request-ID a trusted proxy sent, or a new one: a client's own is not
// taken, so it cannot put what it likes into the log.
func (s *Server) requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-ID"); validRequestID(id) {
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil && s.trustedProxy(ap.Addr().Unmap()) {
			return id
		}
	}
	return randomHex(12)
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c)) {
			return false
		}
	}
	return true
}

// routeName tells the outermost middleware which route answered.
func routeName(pattern string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info, ok := r.Context().Value(reqKey).(*reqInfo); ok {
			info.route = pattern
		}
		next.ServeHTTP(w, r)
	})
}

// LogHandler adds the request id to every record logged with a request's context.
func LogHandler(h slog.Handler) slog.Handler { return requestIDLog{h} }

type requestIDLog struct{ slog.Handler }

func (h requestIDLog) Handle(ctx context.Context, rec slog.Record) error {
	if id := RequestID(ctx); id != "" {
		rec.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, rec)
}

func (h requestIDLog) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDLog{h.Handler.WithAttrs(as)}
}

func (h requestIDLog) WithGroup(name string) slog.Handler {
	return requestIDLog{h.Handler.WithGroup(name)}
}

// Metrics is where request timings go and what /metrics serves (internal/metrics).
type Metrics interface {
	Handler() http.Handler
	Request(route string, code int, d time.Duration)
}

// metricsPage serves Prometheus metrics when --metrics is on, to a bearer of the metrics token
// or an address in --metrics-allow; 404 when off, 401 otherwise.
func (s *Server) metricsPage(w http.ResponseWriter, r *http.Request) {
	if s.metrics == nil {
		s.notFound(w, r)
		return
	}
	if !s.metricsAllowed(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
		http.Error(w, "metrics need the bearer token from LINKDESK_METRICS_TOKEN", http.StatusUnauthorized)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.metrics.Handler().ServeHTTP(w, r)
}

func (s *Server) metricsAllowed(r *http.Request) bool {
	if tok := s.cfg.MetricsToken; tok != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(got), []byte(tok)) == 1 {
			return true
		}
	}
	a, err := netip.ParseAddr(s.clientIP(r))
	if err != nil {
		return false
	}
	for _, p := range s.cfg.MetricsAllow {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// ReplicationStatus is the state of continuous replication (serve --replicate-to).
type ReplicationStatus struct {
	Target    string        // the replica URL
	LastOK    time.Time     // when the replica last held every change; zero: not yet
	Lag       time.Duration // how long it has not; 0: in step
	Failing   bool          // behind for longer than serve accepts
	LastError string
}

// Replication reports replication's state; nil in Deps: not replicating.
type Replication interface {
	Status() ReplicationStatus
}
