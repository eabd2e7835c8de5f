package handlers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/views"
)

// WebhookPath is where Persona sends the console's webhook events (the route in routes.go).
const WebhookPath = "/webhooks/persona"

// maxWebhookBody caps a delivery. Persona's events are a few kilobytes; the cap is the
// endpoint's own so it holds whatever the general body limit becomes.
const maxWebhookBody = 1 << 20

// webhookAnswerTimeout keeps the answer well inside Persona's 5 s: past it Persona would retry
// anyway, so we say so ourselves.
const webhookAnswerTimeout = 4 * time.Second

// receiveWebhook is Persona's way in: the one write path without a session, guarded by the
// signature. A good event is stored once and answered at once; it is applied just after.
func (s *Server) receiveWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	var tooBig *http.MaxBytesError
	if err != nil && !errors.As(err, &tooBig) {
		http.Error(w, "could not read the body", http.StatusBadRequest)
		return
	}
	if tooBig != nil || len(body) > maxWebhookBody {
		s.inq.RejectEvent(db.VerdictMalformed, "body larger than 1 MiB")
		s.webhooks.warn(s.log, "body too large", "remote", r.RemoteAddr)
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	ev, verdict, err := s.inq.VerifyWebhook(r.Header.Get("Persona-Signature"), body, s.cfg.WebhookSecrets, s.cfg.WebhookTolerance, s.webhooks.now())
	if err != nil {
		s.webhooks.warn(s.log, verdict, "reason", err.Error(), "remote", r.RemoteAddr)
		if verdict == db.VerdictMalformed {
			// The signature was good, so this is Persona (or its key holder) sending something
			// we will not store: say what, so it shows in Persona's delivery log.
			http.Error(w, "signature accepted, but the event is malformed: "+err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("WWW-Authenticate", "Persona-Signature")
		http.Error(w, "signature refused", http.StatusUnauthorized)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), webhookAnswerTimeout)
	defer cancel()
	rec, err := s.inq.ReceiveEvent(ctx, ev)
	if err != nil {
		// Not stored (or not known to be): Persona retries on anything but 2xx.
		s.log.ErrorContext(r.Context(), "webhook not stored", "event", ev.ID, "err", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if rec.Duplicate {
		io.WriteString(w, "duplicate\n")
		return
	}
	io.WriteString(w, "ok\n")
}

// webhookState is the endpoint's own state; the zero value is ready to use.
type webhookState struct {
	mu     sync.Mutex
	clock  func() time.Time // nil: time.Now; tests set it to move time on
	warned map[string]*refusalWarnings
}

// refusalWarnings is one reason's warning line: when it was last written and how many refusals
// for the same reason were left out of the log since.
type refusalWarnings struct {
	last       time.Time
	suppressed int
}

// refusalWarnEvery is how often a refusal reason is logged: a flood of forged deliveries must
// not flood the log (the Webhooks page counts every one).
const refusalWarnEvery = time.Minute

func (ws *webhookState) now() time.Time {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.clock == nil {
		return time.Now()
	}
	return ws.clock()
}

// warn logs a refused delivery at most once per reason per refusalWarnEvery, saying how many
// were held back since the previous line. reason must come from a fixed set (a verdict), never
// from the request, so the map stays small.
func (ws *webhookState) warn(log *slog.Logger, reason string, attrs ...any) {
	now := ws.now()
	ws.mu.Lock()
	if ws.warned == nil {
		ws.warned = map[string]*refusalWarnings{}
	}
	rw := ws.warned[reason]
	if rw == nil {
		rw = &refusalWarnings{}
		ws.warned[reason] = rw
	}
	if !rw.last.IsZero() && now.Sub(rw.last) < refusalWarnEvery {
		rw.suppressed++
		ws.mu.Unlock()
		return
	}
	suppressed, since := rw.suppressed, rw.last
	rw.last, rw.suppressed = now, 0
	ws.mu.Unlock()
	attrs = append([]any{"verdict", reason}, attrs...)
	if suppressed > 0 {
		// "suppressed": refusals for the same reason left out of the log since that time.
		attrs = append(attrs, "suppressed", suppressed, "since", since)
	}
	log.Warn("webhook refused", attrs...)
}

// webhookSettingsTimeout bounds the Webhooks page's call to Persona.
const webhookSettingsTimeout = 5 * time.Second

// webhookSettings reads, at Persona, the settings of the webhook that sends to endpoint, for the
// Webhooks page; what the console cannot use becomes a warning there and in the log.
func (s *Server) webhookSettings(ctx context.Context, endpoint string) views.WebhookSettingsView {
	// Bounded well below staff's usual wait, so an unreachable Persona leaves the page usable.
	ctx, cancel := context.WithTimeout(ctx, webhookSettingsTimeout)
	defer cancel()
	ws, err := s.inq.CheckWebhookSettings(ctx, endpoint)
	if err != nil {
		words := err.Error()
		if p := inquiry.ProblemOf(err); p != nil {
			words = p.Words
		}
		return views.WebhookSettingsView{Error: "Could not read the webhook's settings at Persona: " + words}
	}
	for _, w := range ws.Warnings {
		s.log.Warn("webhook settings: " + w)
	}
	h := ws.Webhook
	return views.WebhookSettingsView{
		Found: ws.Found, ID: h.ID, Status: h.Status, Version: h.APIVersion, Inflection: h.KeyInflection,
		Events: h.EnabledEvents, Allowlist: h.RelationshipAllowlist, Blocklist: h.AttributesBlocklist, Warnings: ws.Warnings,
	}
}

var webhookCounters = []struct{ key, label string }{
	{db.VerdictApplied, "Applied"},
	{db.VerdictDuplicate, "Duplicate"},
	{db.VerdictStale, "Stale (older than the cached status)"},
	{db.VerdictIgnored, "Ignored (not about an inquiry)"},
	{db.VerdictBadSignature, "Bad signature"},
	{db.VerdictOldSignature, "Signature too old"},
	{db.VerdictMalformed, "Malformed"},
}

// webhooksPage shows admins whether Persona's webhooks arrive and what became of them.
func (s *Server) webhooksPage(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	st, err := s.db.WebhookStats(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	evs, err := s.db.RecentWebhookEvents(r.Context(), 50)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	v := views.WebhooksView{
		URL: s.cfg.BaseURL + WebhookPath, Secrets: len(s.cfg.WebhookSecrets),
		LastReceived: st.LastReceived, Pending: st.Pending, Now: now,
	}
	v.Settings = s.webhookSettings(r.Context(), v.URL)
	for _, c := range webhookCounters {
		n := st.Counters[c.key]
		v.Counts = append(v.Counts, views.WebhookCount{Label: c.label, N: n.N, LastAt: n.LastAt, Detail: n.LastDetail})
	}
	for _, e := range evs {
		v.Events = append(v.Events, views.WebhookEventRow{ID: e.ID, Name: e.Name, InquiryID: e.InquiryID, Verdict: e.Verdict, EventAt: e.EventAt, ReceivedAt: e.ReceivedAt})
	}
	sync := s.inq.SyncStatus()
	switch {
	case sync.Running:
		v.Sync = "Running now."
	case !sync.FailingSince.IsZero():
		v.Sync = "Persona unreachable since " + views.When(sync.FailingSince) + ": " + sync.LastError
	case sync.LastError != "":
		v.Sync = "Last pass failed: " + sync.LastError
	case sync.LastOK.IsZero():
		v.Sync = "No pass yet since Linkdesk started."
	default:
		l := sync.Last
		v.Sync = "Last pass " + views.Ago(sync.LastOK, now) + ": " + views.Thousands(int64(l.Seen)) + " inquiries read in " +
			views.Thousands(int64(l.Calls)) + " calls, " + views.Thousands(int64(l.Changed)) + " updated, " +
			views.Thousands(int64(l.Discovered)) + " found that were made elsewhere, " + views.Thousands(int64(l.Healed)) + " healed."
	}
	v.Replication, v.ReplicationWarn = s.replicationWords(now) // health.go
	p := s.page(r, "Webhooks", "webhooks")
	s.render(w, r, http.StatusOK, views.WebhooksPage(p, v), nil)
}
