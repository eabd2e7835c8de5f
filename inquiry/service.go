// Package inquiry holds the console's rules: creating inquiries without duplicates, choosing
// and issuing links, staff actions, settings, and keeping the cache in step with Persona. It
// knows nothing of HTTP or HTML.
package inquiry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/internal/keylock"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
)

// audit is an entry for what a did, with a Persona failure in words as its outcome.
func audit(a model.Actor, action, target, detail string, err error) db.AuditEntry {
	e := db.AuditBy(a, action, target, detail)
	if err != nil {
		e.Outcome = persona.Explain(err)
	}
	return e
}

// ErrNotConfigured means no Persona API key is set.
//
//lint:ignore ST1005 shown to people; Persona is a name
var ErrNotConfigured = errors.New("Persona is not configured: an admin must set LINKDESK_PERSONA_API_KEY and restart Linkdesk")

// Service carries out the console's rules over the database and Persona.
type Service struct {
	db  *db.DB
	log *slog.Logger

	mu       sync.RWMutex
	settings Settings
	client   *persona.Client

	changes Publisher // told of every changed inquiry; see Deps
	mail    MailSetup // SMTP sender and outbox worker; see send.go
	spawn   func(func())

	events eventQueue // webhook events waiting to be stored and applied; see events.go
	sync   syncState  // reconciler progress and Persona's reachability; see sync.go

	observer persona.Observer // Persona calls for metrics; see Deps

	keyLocks keylock.Map // one Persona action per stored key at a time; see actionkeys.go
	misses   missCache   // ids Persona said it does not know; see Find
	// reads is each account's budget of Persona-backed reads, verifications the verifications
	// fetched per inquiry version (reads.go).
	reads         readBudget
	verifications verificationCache
}

// Publisher is told the id of every inquiry whose cached row changed (the live hub).
type Publisher interface {
	Publish(inquiryID string)
}

// Deps are what the service is wired to besides the database; each may be zero.
type Deps struct {
	Changes Publisher // nil: nobody listens
	Mail    MailSetup
	// Go runs the service's own background work (the webhook drainer, which lives only while
	// deliveries wait), so the caller can wait for it before closing the database; nil: go f().
	Go func(f func())
	// PersonaObserver is told of every Persona call and rate-limit wait (metrics); nil: nobody.
	PersonaObserver persona.Observer
}

// New builds the service with settings already merged (see LoadSettings).
func New(d *db.DB, st Settings, log *slog.Logger, deps Deps) *Service {
	s := &Service{db: d, log: log, changes: deps.Changes, mail: deps.Mail, spawn: deps.Go, observer: deps.PersonaObserver}
	if s.spawn == nil {
		s.spawn = func(f func()) { go f() }
	}
	s.events.enough = make(chan struct{}, 1)
	s.reads.perMin, s.reads.now = st.StaffReads, time.Now
	if s.reads.perMin == 0 {
		s.reads.perMin = DefaultStaffReads
	}
	s.apply(st)
	return s
}

func (s *Service) apply(st Settings) {
	st = st.withDefaults()
	var c *persona.Client
	if st.APIKey != "" {
		c = persona.New(persona.Config{
			BaseURL: st.APIBaseURL, APIKey: st.APIKey, Version: st.Version,
			UserAgent: "Linkdesk/1", RateLimit: st.RateLimit,
			MaxRetryElapsed: st.MaxRetryElapsed, BackoffBase: st.BackoffBase,
			Observer: s.observer,
		})
	}
	s.mu.Lock()
	s.settings, s.client = st, c
	s.mu.Unlock()
}

// Settings returns the settings in force.
func (s *Service) Settings() Settings {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.settings
}

// Client returns the Persona client, or ErrNotConfigured.
func (s *Service) Client() (*persona.Client, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.client == nil {
		return nil, ErrNotConfigured
	}
	return s.client, nil
}

func (s *Service) changed(id string) {
	s.misses.forget(id) // a webhook, a sync or a create brought it: no longer unknown
	if s.changes != nil {
		s.changes.Publish(id)
	}
}

// fromPersona converts Persona's inquiry into the cached row. version orders it against what
// is cached: Persona's updated-at, or the event time where it is newer.
func fromPersona(p *persona.Inquiry, version time.Time) db.Inquiry {
	q := db.Inquiry{
		ID: p.ID, ReferenceID: p.ReferenceID, TemplateID: p.TemplateID, Status: model.Status(p.Status),
		Name: p.Name(), Email: p.Field("email-address"), Note: p.Note, Tags: p.Tags,
		Fields: map[string]string{}, SyncedAt: time.Now(),
		NoteNotSent: !p.Sent("note"), TagsNotSent: !p.Sent("tags"),
	}
	for _, k := range FieldKeys {
		if v := p.Field(k); v != "" {
			q.Fields[k] = v
		}
	}
	for k, f := range p.Fields {
		if _, ok := q.Fields[k]; !ok {
			if s, ok := f.Value.(string); ok && s != "" {
				q.Fields[k] = s
			}
		}
	}
	t := func(pt *time.Time) time.Time {
		if pt == nil {
			return time.Time{}
		}
		return *pt
	}
	q.CreatedAt, q.UpdatedAt, q.StartedAt = t(p.CreatedAt), t(p.UpdatedAt), t(p.StartedAt)
	q.CompletedAt, q.FailedAt, q.DecidedAt = t(p.CompletedAt), t(p.FailedAt), t(p.DecisionedAt)
	q.ExpiredAt, q.RedactedAt, q.ExpiresAt = t(p.ExpiredAt), t(p.RedactedAt), t(p.ExpiresAt)
	if q.UpdatedAt.IsZero() {
		q.UpdatedAt = q.CreatedAt
	}
	q.VersionAt = q.UpdatedAt
	if version.After(q.VersionAt) {
		q.VersionAt = version
	}
	return q
}

// FieldKeys are the standard prefill fields, in form order (Persona's kebab keys).
var FieldKeys = []string{
	"name-first", "name-middle", "name-last", "birthdate", "email-address", "phone-number",
	"address-street-1", "address-street-2", "address-city", "address-subdivision",
	"address-postal-code", "address-country-code",
}

// store saves a row fetched from Persona, tells listeners when it changed, and returns the
// cached row as it now stands.
func (s *Service) store(ctx context.Context, p *persona.Inquiry, version time.Time, audit db.AuditEntry) (*db.Inquiry, error) {
	row := fromPersona(p, version)
	changed, err := s.db.SaveInquiry(ctx, row, audit)
	if err != nil {
		return nil, err
	}
	if changed {
		s.changed(row.ID)
	}
	return s.db.GetInquiry(ctx, row.ID)
}

// staffTimeout bounds the Persona work behind one click: past it the person gets an answer in
// words (busy, unreachable) rather than a page that never loads.
const staffTimeout = 20 * time.Second

func staffCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, staffTimeout)
}

// auditFailure records a failed action. It runs after a Persona error, often when the request's
// deadline has passed, so it uses a context of its own; a failure to record is logged.
func (s *Service) auditFailure(ctx context.Context, e db.AuditEntry) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.db.Audit(ctx, e); err != nil {
		s.log.Error("audit", "action", e.Action, "target", e.Target, "err", err)
	}
}

// Get returns the cached inquiry.
func (s *Service) Get(ctx context.Context, id string) (*db.Inquiry, error) {
	return s.db.GetInquiry(ctx, id)
}

// missCache remembers unknown inquiry ids for missTTL, at most missMax of them.
type missCache struct {
	mu sync.Mutex
	m  map[string]time.Time // id → when it stops counting
}

const (
	missTTL = 5 * time.Minute
	missMax = 10000
)

func (c *missCache) has(id string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.m[id]
	if ok && !now.Before(until) {
		delete(c.m, id)
		return false
	}
	return ok
}

func (c *missCache) add(id string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]time.Time{}
	}
	if len(c.m) >= missMax {
		for k, until := range c.m {
			if !now.Before(until) {
				delete(c.m, k)
			}
		}
		for k := range c.m { // still full: make room by forgetting any one
			if len(c.m) < missMax {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[id] = now.Add(missTTL)
}

func (c *missCache) forget(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// Refresh fetches the inquiry from Persona and updates the cache. It changes nothing in Persona.
func (s *Service) Refresh(ctx context.Context, a model.Actor, id string) (*db.Inquiry, error) {
	ctx, cancel := staffCtx(ctx)
	defer cancel()
	c, err := s.Client()
	if err != nil {
		return nil, err
	}
	p, err := c.GetInquiry(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("refresh %s: %w", id, err)
	}
	q, err := s.store(ctx, p, time.Time{}, db.AuditEntry{})
	if err != nil {
		return nil, err
	}
	if err := s.db.MarkSynced(ctx, id, time.Now()); err != nil {
		s.log.Warn("mark synced", "inquiry", id, "err", err)
	}
	return q, nil
}

// Decide carries out a staff decision in Persona: approve, decline (both with an optional
// comment) or expire.
func (s *Service) Decide(ctx context.Context, a model.Actor, id, action, comment string) (*db.Inquiry, error) {
	ctx, cancel := staffCtx(ctx)
	defer cancel()
	c, err := s.Client()
	if err != nil {
		return nil, err
	}
	comment = strings.TrimSpace(comment)
	var p *persona.Inquiry
	switch action {
	case "approve", "decline", "expire":
	default:
		return nil, fmt.Errorf("unknown action %q", action)
	}
	err = s.keyedAction(ctx, id, action, "", comment, func(ctx context.Context) (err error) {
		switch action {
		case "approve":
			p, err = c.ApproveInquiry(ctx, id, comment)
		case "decline":
			p, err = c.DeclineInquiry(ctx, id, comment)
		default:
			p, err = c.ExpireInquiry(ctx, id)
		}
		return err
	})
	detail := comment
	if err != nil {
		s.auditFailure(ctx, audit(a, "inquiry."+action, id, detail, err))
		return nil, err
	}
	return s.store(ctx, p, time.Time{}, audit(a, "inquiry."+action, id, detail, nil))
}

// Verification is one verification with its checks, fetched on demand.
type Verification = persona.Verification

// IDFacts is what a government ID verification says about its holder (see Verification.IDFacts).
type IDFacts = persona.IDFacts
