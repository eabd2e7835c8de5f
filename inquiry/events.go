package inquiry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/persona"
)

// Webhook events go through two steps: stored (so nothing is lost once Persona got its 200),
// then applied to the cached inquiry. Deliveries that arrive together share one transaction for
// both steps, which is what lets one SQLite writer take thousands of events a second; a failed
// apply leaves them stored, for ApplyPending.

// maxBatch bounds one transaction, so no delivery waits behind a very long one.
const maxBatch = 500

// commitEvery paces the drainer's transactions while deliveries keep coming: a delivery that
// finds the drainer idle is stored at once; one that arrives within commitEvery of the last
// transaction's start waits for the next, with the others that arrived meanwhile, unless
// batchEnough are waiting. Each transaction costs the writer pages however few events it holds
// (the search index writes a segment per transaction) and sends every reader back to a cold
// cache: at 200 deliveries a second, one each would be 200 of both.
const (
	commitEvery = 20 * time.Millisecond
	batchEnough = 16 // a transaction's cost shared this many ways: waiting longer gains little
)

type eventQueue struct {
	mu      sync.Mutex
	items   []*queuedEvent
	rejects []db.Rejection
	running bool
	enough  chan struct{} // told when batchEnough events wait, to end the drainer's pause
}

type queuedEvent struct {
	ev    db.WebhookEvent
	row   *db.Inquiry // the inquiry the event carries; nil when it is about something else
	fresh bool
	done  chan error
}

// Receipt tells the webhook handler what became of a delivery.
type Receipt struct {
	Duplicate bool // stored before: nothing to do
}

// ReceiveEvent stores a verified event and returns once it is durably stored (or known to be a
// duplicate); applying it to the cache happens just after, off the caller's clock.
func (s *Service) ReceiveEvent(ctx context.Context, ev *persona.Event) (Receipt, error) {
	received := time.Now()
	limit := ev.NotAfter
	if limit.IsZero() {
		limit = received.Add(persona.DefaultWebhookTolerance)
	}
	qe := &queuedEvent{done: make(chan error, 1), ev: db.WebhookEvent{
		ID: ev.ID, Name: ev.Name, EventAt: notAfter(ev.CreatedAt, limit), ReceivedAt: received, Payload: string(ev.Payload),
	}}
	if ev.PayloadType == "inquiry" {
		qe.ev.InquiryID = ev.PayloadID
	}
	if ev.Inquiry != nil {
		row := fromPersona(ev.Inquiry, ev.CreatedAt)
		row.VersionAt = notAfter(row.VersionAt, limit)
		qe.row = &row
	}
	if qe.ev.EventAt.IsZero() {
		qe.ev.EventAt = qe.ev.ReceivedAt
	}
	s.events.mu.Lock()
	s.events.items = append(s.events.items, qe)
	if len(s.events.items) == batchEnough {
		select {
		case s.events.enough <- struct{}{}:
		default: // told already
		}
	}
	s.kick()
	s.events.mu.Unlock()
	select {
	case err := <-qe.done:
		if err != nil {
			return Receipt{}, err
		}
		return Receipt{Duplicate: !qe.fresh}, nil
	case <-ctx.Done():
		// The event may still be stored: Persona's retry will then be counted as a duplicate.
		return Receipt{}, ctx.Err()
	}
}

// RejectEvent counts a delivery refused before it became an event (bad signature, stale,
// malformed), for the Webhooks page. It does not wait.
func (s *Service) RejectEvent(verdict, detail string) {
	s.events.mu.Lock()
	s.events.rejects = append(s.events.rejects, db.Rejection{Verdict: verdict, Detail: detail, At: time.Now()})
	s.kick()
	s.events.mu.Unlock()
}

// kick starts the drainer unless it runs; call with events.mu held. The drainer lives only as
// long as there is work, so nothing needs stopping; it runs under Deps.Go, so the process waits
// for it before closing the database.
func (s *Service) kick() {
	if !s.events.running {
		s.events.running = true
		s.spawn(s.drainEvents)
	}
}

func (s *Service) drainEvents() {
	ctx := context.Background()
	var last time.Time
	for {
		if !last.IsZero() {
			pause := time.NewTimer(time.Until(last.Add(commitEvery)))
			select {
			case <-pause.C:
			case <-s.events.enough:
			}
			pause.Stop()
		}
		last = time.Now()
		s.events.mu.Lock()
		n := min(len(s.events.items), maxBatch)
		batch := s.events.items[:n:n]
		s.events.items = s.events.items[n:]
		rejects := s.events.rejects
		s.events.rejects = nil
		if len(batch) == 0 && len(rejects) == 0 {
			s.events.running = false
			s.events.items = nil
			s.events.mu.Unlock()
			return
		}
		s.events.mu.Unlock()

		items := make([]db.EventApply, len(batch))
		for i, qe := range batch {
			items[i] = db.EventApply{Event: qe.ev, Row: qe.row}
		}
		fresh, changed, applyErr, err := s.db.ReceiveWebhookEvents(ctx, items, rejects)
		for i, qe := range batch {
			if err == nil {
				qe.fresh = fresh[i]
			}
			qe.done <- err
		}
		if err != nil {
			s.log.Error("store webhook events", "events", len(batch), "err", err)
			continue
		}
		if applyErr != nil {
			// Stored and answered: the next reconcile pass applies them (ApplyPending).
			s.log.Error("apply webhook events", "events", len(batch), "err", applyErr)
		}
		for _, id := range changed {
			s.changed(id)
		}
	}
}

// ApplyPending applies events that were stored but never applied (applying them failed). It
// returns how many it applied.
func (s *Service) ApplyPending(ctx context.Context) (int, error) {
	total := 0
	for {
		evs, err := s.db.PendingWebhookEvents(ctx, maxBatch)
		if err != nil {
			return total, err
		}
		items := make([]db.EventApply, 0, len(evs))
		for _, e := range evs {
			it := db.EventApply{Event: e}
			if e.Payload != "" && e.InquiryID != "" {
				p, err := persona.DecodeInquiry([]byte(e.Payload))
				if err != nil {
					s.log.Warn("stored webhook event has an unreadable payload", "event", e.ID, "err", err)
				} else {
					row := fromPersona(p, e.EventAt)
					// As on receipt (the configured tolerance is not kept, so the default's;
					// the stored event time is already clamped).
					row.VersionAt = notAfter(row.VersionAt, maxTime(e.EventAt, e.ReceivedAt.Add(persona.DefaultWebhookTolerance)))
					it.Row = &row
				}
			}
			items = append(items, it)
		}
		_, changed, err := s.db.ApplyWebhookEvents(ctx, items)
		if err != nil {
			return total, fmt.Errorf("apply pending webhook events: %w", err)
		}
		for _, id := range changed {
			s.changed(id)
		}
		total += len(items)
		if len(evs) < maxBatch {
			return total, nil
		}
	}
}

// notAfter clamps an event's time or version to limit: a time from the future beyond the
// allowed clock skew would pin the cached row against every later update.
func notAfter(t, limit time.Time) time.Time {
	if t.After(limit) {
		return limit
	}
	return t
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// VerifyWebhook checks a delivery's signature against every configured secret at time now and
// parses it; refusals are counted with their reason. It returns the verdict for a refusal (""
// when the event is good) so the handler can log it.
func (s *Service) VerifyWebhook(header string, body []byte, secrets []string, tolerance time.Duration, now time.Time) (*persona.Event, string, error) {
	ev, err := persona.VerifyWebhook(header, body, secrets, tolerance, now)
	if err == nil {
		return ev, "", nil
	}
	verdict := db.VerdictMalformed
	switch {
	case errors.Is(err, persona.ErrSignatureMismatch), errors.Is(err, persona.ErrNoSecrets), errors.Is(err, persona.ErrSignatureMalformed):
		verdict = db.VerdictBadSignature
	case errors.Is(err, persona.ErrSignatureStale):
		verdict = db.VerdictOldSignature
	}
	s.RejectEvent(verdict, err.Error())
	return nil, verdict, err
}

// TransitionSteps reads the steps an inquiry.transitioned event's payload (as stored) moved
// between, Persona's step names ("verification_government_id" → "verification_selfie"); ""
// for what it does not say.
func TransitionSteps(payload string) (from, to string) {
	p, err := persona.DecodeInquiry([]byte(payload))
	if err != nil {
		return "", ""
	}
	return p.PreviousStepName, p.NextStepName
}
