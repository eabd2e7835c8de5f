package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/handlers"
	"github.com/linkdesk/linkdesk/internal/metrics"
	"github.com/linkdesk/linkdesk/live"
	"github.com/linkdesk/linkdesk/persona"
)

// observeConfig is how serve shows how it is doing: log format and /metrics.
type observeConfig struct {
	logFormat string
	metrics   bool
	allow     string
	token     string // from LINKDESK_METRICS_TOKEN only
	allowNets []netip.Prefix
}

func observeFlags(fs *flag.FlagSet) *observeConfig {
	o := &observeConfig{}
	fs.StringVar(&o.logFormat, "log-format", env("LOG_FORMAT", "text"), "log lines as text or json (for log shippers) [LINKDESK_LOG_FORMAT]")
	fs.BoolVar(&o.metrics, "metrics", envBool("METRICS", false), "serve Prometheus metrics at /metrics, to the bearer of LINKDESK_METRICS_TOKEN or --metrics-allow networks [LINKDESK_METRICS]")
	fs.StringVar(&o.allow, "metrics-allow", env("METRICS_ALLOW", ""), "networks that may read /metrics without the token, as IP addresses or CIDR ranges, comma-separated [LINKDESK_METRICS_ALLOW]")
	return o
}

// check validates the flags once parsed.
func (o *observeConfig) check() error {
	if o.logFormat != "text" && o.logFormat != "json" {
		return fmt.Errorf("serve: --log-format must be text or json, not %q", o.logFormat)
	}
	nets, err := handlers.ParseTrustedProxies(o.allow)
	if err != nil {
		return fmt.Errorf("serve: --metrics-allow: %w", err)
	}
	o.allowNets = nets
	o.token = os.Getenv("LINKDESK_METRICS_TOKEN")
	if o.metrics && o.token == "" && len(nets) == 0 {
		return errors.New("serve: --metrics needs LINKDESK_METRICS_TOKEN or --metrics-allow, so that not everyone can read them")
	}
	return nil
}

// logger writes every line in the chosen format, with the request id of a request's lines.
func (o *observeConfig) logger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if envBool("DEBUG", false) {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if o.logFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(handlers.LogHandler(h))
}

// registry builds the metrics when --metrics is on; off, both are nil interfaces.
func (o *observeConfig) registry(d *db.DB, hub *live.Hub, lastSync func() time.Time, repl handlers.Replication) (handlers.Metrics, persona.Observer) {
	if !o.metrics {
		return nil, nil
	}
	src := metrics.Sources{DB: d, LastSync: lastSync, LiveStreams: hub.Streams}
	if repl != nil {
		src.Replication = func() (time.Time, time.Duration) { st := repl.Status(); return st.LastOK, st.Lag }
	}
	m := metrics.New(src)
	return m, m
}
