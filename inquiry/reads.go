package inquiry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
)

// Persona-backed reads staff ask for (opening an inquiry the cache does not know, Refresh, the
// verifications) share the client's rate limit with creates, emails, sync and bulk jobs. Each
// account gets a budget of them, so no one account (a viewer's script, many tabs) can spend the
// limit everyone else and the jobs need; and verifications are kept per inquiry version.

// DefaultStaffReads is each account's Persona-backed reads per minute (and its burst).
const DefaultStaffReads = 30

// ErrReadBudget refuses a read past the account's budget, in words (answered 429).
var ErrReadBudget = &Problem{Status: 429, Retryable: true,
	Words: "You asked Persona for more in the last minute than one account may (it keeps Persona's rate limit free for everyone's creates and emails). Wait a minute and try again.",
	Err:   errors.New("inquiry: this account's Persona reads for the minute are spent")}

// readBudget is a token bucket per account: perMin reads a minute, up to perMin at once.
type readBudget struct {
	mu     sync.Mutex
	perMin int
	now    func() time.Time
	left   map[int64]budgetState
}

type budgetState struct {
	tokens float64
	at     time.Time
}

// take spends one read of the account's budget, or reports that it is spent. Work the console
// does itself (model.System, ID 0) is not counted here: the client's reserve paces it.
func (b *readBudget) take(a model.Actor) error {
	if a.ID == 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if b.left == nil {
		b.left = map[int64]budgetState{}
	}
	st, ok := b.left[a.ID]
	full := float64(b.perMin)
	if !ok {
		st = budgetState{tokens: full, at: now}
	}
	st.tokens = min(full, st.tokens+now.Sub(st.at).Minutes()*full)
	st.at = now
	if st.tokens < 1 {
		b.left[a.ID] = st
		return ErrReadBudget
	}
	st.tokens--
	b.left[a.ID] = st
	return nil
}

// verificationTTL bounds how long an inquiry's verifications are reused while its cached row
// does not change (a webhook or sync that changes it starts over at once).
const (
	verificationTTL = time.Minute
	verificationMax = 2000
)

type verificationEntry struct {
	version string // the cached inquiry's status and update time when fetched
	at      time.Time
	vs      []*Verification
}

// verificationCache keeps each inquiry's verifications for its version.
type verificationCache struct {
	mu sync.Mutex
	m  map[string]verificationEntry
}

func (c *verificationCache) get(id, version string, now time.Time) ([]*Verification, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || e.version != version || now.Sub(e.at) >= verificationTTL {
		return nil, false
	}
	return e.vs, true
}

func (c *verificationCache) put(id, version string, vs []*Verification, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]verificationEntry{}
	}
	if len(c.m) >= verificationMax {
		for k := range c.m { // make room by forgetting any one
			delete(c.m, k)
			break
		}
	}
	c.m[id] = verificationEntry{version: version, at: now, vs: vs}
}

func inquiryVersion(q *db.Inquiry) string {
	return string(q.Status) + "@" + strconv.FormatInt(q.UpdatedAt.UnixNano(), 10)
}

// Find returns the cached inquiry, or adopts it from Persona when it was made elsewhere (an
// inq_ id the cache does not know), spending a read of a's budget. Once the cache is complete
// (a full sync read every inquiry) an unknown id costs no call: the reconciler brings new
// ones. An id Persona does not know is remembered for a few minutes. db.ErrNotFound then.
func (s *Service) Find(ctx context.Context, a model.Actor, id string) (*db.Inquiry, error) {
	q, err := s.db.GetInquiry(ctx, id)
	if !errors.Is(err, db.ErrNotFound) || !persona.ValidID("inq_", id) { // a malformed id costs no call
		return q, err
	}
	if s.misses.has(id, time.Now()) {
		return nil, db.ErrNotFound
	}
	if complete, err := s.CacheComplete(ctx); err != nil {
		return nil, err
	} else if complete {
		return nil, db.ErrNotFound
	}
	if err := s.reads.take(a); err != nil {
		return nil, err
	}
	q, err = s.Refresh(ctx, model.System, id)
	if persona.IsNotFound(err) {
		s.misses.add(id, time.Now())
		return nil, db.ErrNotFound
	}
	return q, err
}

// StaffRefresh is Refresh asked for by a member of staff: it spends a read of their budget.
func (s *Service) StaffRefresh(ctx context.Context, a model.Actor, id string) (*db.Inquiry, error) {
	if err := s.reads.take(a); err != nil {
		return nil, err
	}
	return s.Refresh(ctx, a, id)
}

// Verifications returns the inquiry's verifications with their checks: fetched from Persona
// (spending a read of a's budget) unless fetched within the last minute for the same version
// of the inquiry. An inquiry Find does not find is db.ErrNotFound.
func (s *Service) Verifications(ctx context.Context, a model.Actor, id string) ([]*Verification, error) {
	q, err := s.Find(ctx, a, id)
	if err != nil {
		return nil, err
	}
	version := inquiryVersion(q)
	if vs, ok := s.verifications.get(id, version, time.Now()); ok {
		return vs, nil
	}
	if err := s.reads.take(a); err != nil {
		return nil, err
	}
	ctx, cancel := staffCtx(ctx)
	defer cancel()
	c, err := s.Client()
	if err != nil {
		return nil, err
	}
	p, err := c.GetInquiry(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []*Verification
	for _, vid := range p.VerificationIDs {
		v, err := c.GetVerification(ctx, vid)
		if err != nil {
			return out, fmt.Errorf("verification %s: %w", vid, err)
		}
		out = append(out, v)
	}
	s.verifications.put(id, version, out, time.Now())
	return out, nil
}
