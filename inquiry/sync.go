package inquiry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
)

// The reconciler brings the cache in step with Persona through its list endpoint (100
// inquiries a call), so that a missed webhook heals on its own and inquiries made outside the
// console (Persona's dashboard, template links) show up. Its calls go through the same client,
// and so the same rate limiter, as everything else.

type syncState struct {
	run sync.Mutex // one pass at a time

	mu           sync.Mutex
	lastOK       time.Time
	failingSince time.Time
	lastErr      string
	last         Result
	running      bool
}

// Result is what one reconcile pass did.
type Result struct {
	Seen       int // inquiries Persona returned
	Changed    int // cached rows written
	Discovered int // inquiries the cache did not know
	Healed     int // open inquiries fetched one by one because Persona no longer lists them as open
	Calls      int // Persona requests made
	Applied    int // stored webhook events applied late
	Duration   time.Duration
}

// SyncStatus is the reconciler's state for banners and pages.
type SyncStatus struct {
	LastOK       time.Time // zero: no pass succeeded since start
	FailingSince time.Time // zero: Persona answered the last pass
	LastError    string    // in words
	Running      bool
	Last         Result
}

// SyncStatus returns the reconciler's state.
func (s *Service) SyncStatus() SyncStatus {
	s.sync.mu.Lock()
	defer s.sync.mu.Unlock()
	return SyncStatus{LastOK: s.sync.lastOK, FailingSince: s.sync.failingSince, LastError: s.sync.lastErr, Running: s.sync.running, Last: s.sync.last}
}

const (
	keyLastSync = "sync.last_ok_start" // unix ms: when the last good pass started
	keyFullSync = "sync.full_ok_start" // unix ms: when the last good full pass started
	// syncOverlap re-reads a little of what the last pass saw, for clock skew and inquiries
	// whose creation was in flight while it ran.
	syncOverlap = 10 * time.Minute
	// firstLookBack is how far a first incremental pass looks for inquiries made elsewhere;
	// `linkdesk sync --full` imports everything.
	firstLookBack = 7 * 24 * time.Hour
	// healLimit bounds the inquiries a pass fetches by id (100 to a call); the rest wait for the next.
	healLimit = 1000
	// eventRetention keeps stored webhook events (for the Webhooks page and duplicate
	// detection) as long as Persona keeps them.
	eventRetention = 30 * 24 * time.Hour
)

// mayChangeFilter asks Persona's list for the known statuses it may still change by itself
// (model.Status.MayChange), comma-separated.
var mayChangeFilter = func() string {
	var out []string
	for _, st := range model.Statuses {
		if st.MayChange() {
			out = append(out, string(st))
		}
	}
	return strings.Join(out, ",")
}()

// Reconcile runs one pass. full walks every inquiry Persona has; otherwise it reads those
// created since the last good pass (whatever their status), those still open at Persona, and
// fetches one by one the cached open ones Persona no longer lists as open. progress, when not
// nil, is told how many inquiries were handled so far.
func (s *Service) Reconcile(ctx context.Context, full bool, progress func(done int)) (res Result, err error) {
	// Stored webhook events need no Persona call: apply them even when it is not configured.
	if res.Applied, err = s.ApplyPending(ctx); err != nil {
		return res, err
	}
	c, err := s.Client()
	if err != nil {
		return res, err
	}
	s.sync.run.Lock()
	defer s.sync.run.Unlock()
	start := time.Now()
	s.sync.mu.Lock()
	s.sync.running = true
	s.sync.mu.Unlock()
	defer func() {
		res.Duration = time.Since(start)
		s.finishPass(start, res, err)
	}()

	open, oldest, err := s.db.OpenInquiries(ctx)
	if err != nil {
		return res, err
	}
	seen := map[string]bool{}
	done := 0
	save := func(items []*persona.Inquiry) error {
		rows := make([]db.Inquiry, len(items))
		for i, p := range items {
			rows[i] = fromPersona(p, time.Time{})
			seen[p.ID] = true
		}
		changed, discovered, err := s.db.SaveSynced(ctx, rows, time.Now())
		if err != nil {
			return err
		}
		for _, id := range changed {
			s.changed(id)
		}
		res.Seen += len(items)
		res.Changed += len(changed)
		res.Discovered += len(discovered)
		done += len(items)
		if progress != nil {
			progress(done)
		}
		return nil
	}
	list := func(p persona.ListInquiriesParams) error {
		p.PageSize = 100
		var cursors persona.CursorGuard
		for {
			page, err := c.ListInquiries(ctx, p)
			res.Calls++
			if err != nil {
				return fmt.Errorf("list inquiries: %w", err)
			}
			if err := save(page.Inquiries); err != nil {
				return err
			}
			if page.NextAfter == "" || len(page.Inquiries) == 0 {
				return nil
			}
			if err := cursors.Follow(p.After, page.NextAfter); err != nil {
				return err
			}
			p.After = page.NextAfter
		}
	}

	if full {
		if err := list(persona.ListInquiriesParams{}); err != nil {
			return res, err
		}
	} else {
		since, err := s.lastSyncStart(ctx)
		if err != nil {
			return res, err
		}
		if since.IsZero() {
			since = start.Add(-firstLookBack)
		}
		since = since.Add(-syncOverlap)
		if err := list(persona.ListInquiriesParams{CreatedAfter: since}); err != nil {
			return res, err
		}
		if !oldest.IsZero() && oldest.Before(since) {
			if err := list(persona.ListInquiriesParams{Status: mayChangeFilter, CreatedAfter: oldest, CreatedBefore: since}); err != nil {
				return res, err
			}
		}
	}

	// Open in the cache but not listed as open: Persona moved them on and we missed the
	// webhook. They are fetched by id, 100 to a call (filter[inquiry-id]).
	var missed []string
	for _, id := range open {
		if !seen[id] && len(missed) < healLimit {
			missed = append(missed, id)
		}
	}
	for len(missed) > 0 {
		batch := missed[:min(100, len(missed))]
		missed = missed[len(batch):]
		before := res.Seen
		if err := list(persona.ListInquiriesParams{InquiryIDs: batch}); err != nil {
			return res, err
		}
		// Ids Persona no longer lists were redacted or deleted there: the cache keeps what it knew.
		res.Healed += res.Seen - before
	}
	mark := map[string]string{keyLastSync: strconv.FormatInt(start.UnixMilli(), 10)}
	if full {
		mark[keyFullSync] = mark[keyLastSync]
	}
	if err := s.db.SetSettings(ctx, mark, db.AuditEntry{}); err != nil {
		return res, err
	}
	return res, nil
}

// CacheComplete reports whether the cache knows every inquiry Persona had when the last good
// pass started: a full pass succeeded once, and each later pass reads everything created since
// the one before it (with an overlap), so nothing made elsewhere since then can be missing.
func (s *Service) CacheComplete(ctx context.Context) (bool, error) {
	_, err := s.db.Setting(ctx, keyFullSync)
	if errors.Is(err, db.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (s *Service) lastSyncStart(ctx context.Context) (time.Time, error) {
	v, err := s.db.Setting(ctx, keyLastSync)
	if errors.Is(err, db.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, nil
	}
	return time.UnixMilli(n), nil
}

func (s *Service) finishPass(start time.Time, res Result, err error) {
	s.sync.mu.Lock()
	defer s.sync.mu.Unlock()
	s.sync.running = false
	s.sync.last = res
	switch {
	case err == nil:
		s.sync.lastOK, s.sync.failingSince, s.sync.lastErr = time.Now(), time.Time{}, ""
	case errors.Is(err, context.Canceled):
	default:
		s.sync.lastErr = err.Error()
		if IsPersonaError(err) {
			s.sync.lastErr = persona.Explain(err)
		}
		if persona.IsUnavailable(err) && s.sync.failingSince.IsZero() {
			s.sync.failingSince = start
		}
	}
}

// RunReconciler runs a pass every interval until ctx ends (the first shortly after start).
// Failures are logged and tried again at the next tick.
func (s *Service) RunReconciler(ctx context.Context, every time.Duration) {
	// Events stored before a stop but never applied are applied at once, sync or not.
	if n, err := s.ApplyPending(ctx); err != nil {
		s.log.Error("apply stored webhook events", "err", err)
	} else if n > 0 {
		s.log.Info("applied webhook events stored before the last stop", "events", n)
	}
	if every <= 0 {
		return
	}
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res, err := s.Reconcile(ctx, false, nil)
		switch {
		case errors.Is(err, ErrNotConfigured), ctx.Err() != nil:
		case err != nil:
			s.log.Warn("reconcile with Persona failed", "err", err, "calls", res.Calls)
		default:
			if n, err := s.db.PruneWebhookEvents(ctx, time.Now().Add(-eventRetention)); err != nil {
				s.log.Warn("prune webhook events", "err", err)
			} else if n > 0 {
				s.log.Info("pruned old webhook events", "events", n)
			}
			s.log.Info("reconciled with Persona", "seen", res.Seen, "changed", res.Changed, "discovered", res.Discovered,
				"healed", res.Healed, "calls", res.Calls, "applied", res.Applied, "duration", res.Duration.Round(time.Millisecond))
		}
		t.Reset(every)
	}
}
