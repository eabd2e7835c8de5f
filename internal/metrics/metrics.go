// Package metrics is the console's Prometheus registry: request timings and Persona calls are
// counted as they happen; the outbox, webhooks, bulk rows, reconciler and live streams are read
// when /metrics is scraped, so nothing else keeps counters of its own for it.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Sources are what the scrape-time metrics read.
type Sources struct {
	DB          *db.DB
	LastSync    func() time.Time // the reconciler's last good pass; zero: none since start
	LiveStreams func() int       // live streams open
	// Replication is the replica's last time in step and lag; nil: not replicating.
	Replication func() (lastOK time.Time, lag time.Duration)
}

// Metrics holds the registry and the metrics counted as they happen.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.HistogramVec
	personaCalls *prometheus.HistogramVec
	personaWaits prometheus.Histogram
}

// New registers every metric; the Go runtime, process and database pool collectors included.
func New(src Sources) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "linkdesk_http_request_duration_seconds",
			Help: "Time to answer HTTP requests, by route pattern and status code.",
		}, []string{"route", "code"}),
		personaCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "linkdesk_persona_call_duration_seconds",
			Help: "Persona API attempts (retries included), by operation and HTTP status (0: no answer).",
		}, []string{"operation", "status"}),
		personaWaits: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "linkdesk_persona_rate_limit_wait_seconds",
			Help:    "Time Persona calls waited for the client-side rate limiter before going out.",
			Buckets: []float64{0.001, 0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60},
		}),
	}
	m.reg.MustRegister(m.requests, m.personaCalls, m.personaWaits,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(src.DB.W, "writer"),
		collectors.NewDBStatsCollector(src.DB.R, "readers"),
		&scrape{src: src, start: time.Now()},
	)
	return m
}

// Handler serves the registry in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Request records one answered request; route is its route table pattern.
func (m *Metrics) Request(route string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Observe(d.Seconds())
}

// PersonaCall and PersonaWait make Metrics a persona.Observer.
func (m *Metrics) PersonaCall(op string, status int, d time.Duration) {
	m.personaCalls.WithLabelValues(op, strconv.Itoa(status)).Observe(d.Seconds())
}

func (m *Metrics) PersonaWait(d time.Duration) { m.personaWaits.Observe(d.Seconds()) }

var (
	descWebhooks = prometheus.NewDesc("linkdesk_webhooks_received_total",
		"Webhook deliveries by verdict (applied, stale, ignored, duplicate, bad_signature, stale_signature, malformed), counted in the database across restarts.",
		[]string{"verdict"}, nil)
	descWebhooksPending = prometheus.NewDesc("linkdesk_webhooks_pending",
		"Webhook events stored but not applied yet.", nil, nil)
	descOutbox = prometheus.NewDesc("linkdesk_outbox_emails",
		"Emails in the outbox by state (queued and sending are the backlog).", []string{"state"}, nil)
	descBacklog = prometheus.NewDesc("linkdesk_outbox_backlog",
		"Emails waiting to be sent (queued or sending).", nil, nil)
	descSyncOK = prometheus.NewDesc("linkdesk_reconciler_last_success_timestamp_seconds",
		"When the reconciler's last good pass finished (Unix time; 0: none since start).", nil, nil)
	descSyncLag = prometheus.NewDesc("linkdesk_reconciler_lag_seconds",
		"Seconds since the reconciler's last good pass (since start when none succeeded).", nil, nil)
	descStreams = prometheus.NewDesc("linkdesk_live_streams_open",
		"Live update streams (server-sent events) open.", nil, nil)
	descReplOK = prometheus.NewDesc("linkdesk_replication_last_success_timestamp_seconds",
		"When the replica last held every change (Unix time; 0: not yet). Absent without --replicate-to.", nil, nil)
	descReplLag = prometheus.NewDesc("linkdesk_replication_lag_seconds",
		"Seconds the replica has trailed the database (0: in step). Absent without --replicate-to.", nil, nil)
	descBulk = prometheus.NewDesc("linkdesk_bulk_rows",
		"Bulk-send rows of every job by outcome (pending, created, reused, resumed, skipped, failed, cancelled).",
		[]string{"outcome"}, nil)
)

// Every verdict and bulk outcome is always present (0 until it happens), so alerts and
// dashboards can rely on the series.
var (
	verdicts = []string{db.VerdictApplied, db.VerdictStale, db.VerdictIgnored,
		db.VerdictDuplicate, db.VerdictBadSignature, db.VerdictOldSignature, db.VerdictMalformed}
	bulkOutcomes = []string{db.RowPending, "created", "reused", "resumed", "skipped", "failed", "cancelled"} // migration 010
)

// scrape reads the state other parts already keep, at each scrape.
type scrape struct {
	src   Sources
	start time.Time
}

// Describe sends nothing: the collector is unchecked, its series depend on what the database holds.
func (s *scrape) Describe(chan<- *prometheus.Desc) {}

func (s *scrape) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if st, err := s.src.DB.WebhookStats(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(descWebhooks, err)
	} else {
		for _, v := range verdicts {
			ch <- prometheus.MustNewConstMetric(descWebhooks, prometheus.CounterValue, float64(st.Counters[v].N), v)
		}
		ch <- prometheus.MustNewConstMetric(descWebhooksPending, prometheus.GaugeValue, float64(st.Pending))
	}
	if byState, err := s.src.DB.CountEmailsByState(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(descOutbox, err)
	} else {
		for state, n := range byState {
			ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(n), state)
		}
		ch <- prometheus.MustNewConstMetric(descBacklog, prometheus.GaugeValue, float64(byState[db.EmailQueued]+byState[db.EmailSending]))
	}
	if rows, err := s.src.DB.BulkRowStates(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(descBulk, err)
	} else {
		for _, o := range bulkOutcomes {
			ch <- prometheus.MustNewConstMetric(descBulk, prometheus.GaugeValue, float64(rows[o]), o)
		}
	}
	var last time.Time
	if s.src.LastSync != nil {
		last = s.src.LastSync()
	}
	since := s.start
	lastUnix := 0.0
	if !last.IsZero() {
		since, lastUnix = last, float64(last.UnixMilli())/1000
	}
	ch <- prometheus.MustNewConstMetric(descSyncOK, prometheus.GaugeValue, lastUnix)
	ch <- prometheus.MustNewConstMetric(descSyncLag, prometheus.GaugeValue, time.Since(since).Seconds())
	if s.src.Replication != nil {
		ok, lag := s.src.Replication()
		okUnix := 0.0
		if !ok.IsZero() {
			okUnix = float64(ok.UnixMilli()) / 1000
		}
		ch <- prometheus.MustNewConstMetric(descReplOK, prometheus.GaugeValue, okUnix)
		ch <- prometheus.MustNewConstMetric(descReplLag, prometheus.GaugeValue, lag.Seconds())
	}
	streams := 0
	if s.src.LiveStreams != nil {
		streams = s.src.LiveStreams()
	}
	ch <- prometheus.MustNewConstMetric(descStreams, prometheus.GaugeValue, float64(streams))
}
