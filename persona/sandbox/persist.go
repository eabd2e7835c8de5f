package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/linkdesk/linkdesk/internal/durable"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Durable state (Options.StateFile). A real Persona never forgets what it answered, so a
// sandbox given a state file writes a snapshot of everything it keeps (inquiries,
// verifications, sessions, accounts, one-time links, answered idempotency keys) after every
// request that changed something and before that request's answer is sent: write, then answer.
// The snapshot replaces the file atomically (temporary file, fsync, rename, fsync of the
// folder), so a kill -9 at any moment leaves either the old state or the new one. Open reads it
// back. Not kept: counters (Stats), knobs, and webhook deliveries still queued.

const stateVersion = 1

type stateJSON struct {
	Version       int                 `json:"version"`
	Seq           int64               `json:"seq"`
	Clock         time.Time           `json:"clock"`
	JWTKey        []byte              `json:"jwt_key"`
	Inquiries     []inquiryJSON       `json:"inquiries"` // creation order
	Verifications []verificationJSON  `json:"verifications"`
	Sessions      []sessionJSON       `json:"sessions"`
	Accounts      []accountJSON       `json:"accounts"`
	OneTimeLinks  []otlJSON           `json:"one_time_links"`
	Idempotency   map[string]idemJSON `json:"idempotency"`
}

type fieldJSON struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
}

type inquiryJSON struct {
	Seq             int64                `json:"seq"`
	ID              string               `json:"id"`
	Status          string               `json:"status"`
	ReferenceID     string               `json:"reference_id"`
	Note            *string              `json:"note"`
	Tags            []string             `json:"tags"`
	Creator         string               `json:"creator"`
	ReviewerComment *string              `json:"reviewer_comment"`
	Times           [10]time.Time        `json:"times"` // see inquiryTimes
	PrevStep        string               `json:"prev_step"`
	NextStep        string               `json:"next_step"`
	Fields          map[string]fieldJSON `json:"fields"`
	CustomKeys      []string             `json:"custom_keys"`
	Template        string               `json:"template"`
	AccountID       string               `json:"account_id"`
	Reviewer        *ref                 `json:"reviewer"`
	Verifications   []string             `json:"verifications"`
	Sessions        []string             `json:"sessions"`
	RedirectURI     string               `json:"redirect_uri"`
	Step            int                  `json:"step"`
	Outcome         string               `json:"outcome"`
	Expiries        [4]time.Duration     `json:"expiries"` // create, start, resume, one-time link
}

// inquiryTimes lists an inquiry's timestamps in the order inquiryJSON.Times keeps them.
func inquiryTimes(q *inquiry) [10]*time.Time {
	return [10]*time.Time{&q.createdAt, &q.updatedAt, &q.startedAt, &q.expiresAt, &q.completedAt,
		&q.failedAt, &q.markedAt, &q.decisionedAt, &q.expiredAt, &q.redactedAt}
}

type checkJSON struct {
	Name        string   `json:"name"`
	Status      string   `json:"status"`
	Reasons     []string `json:"reasons"`
	Requirement string   `json:"requirement"`
}

type verificationJSON struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	Status      string          `json:"status"`
	InquiryID   string          `json:"inquiry_id"`
	Step        string          `json:"step"`
	Times       [4]time.Time    `json:"times"` // created, submitted, completed, redacted
	CountryCode string          `json:"country_code"`
	Checks      []checkJSON     `json:"checks"`
	Attrs       json.RawMessage `json:"attrs"`
}

type sessionJSON struct {
	ID        string       `json:"id"`
	InquiryID string       `json:"inquiry_id"`
	Status    string       `json:"status"`
	Times     [4]time.Time `json:"times"` // created, started, expired, expires
	IP        string       `json:"ip"`
	UserAgent string       `json:"user_agent"`
	Handoff   string       `json:"handoff"`
}

type accountJSON struct {
	ID          string    `json:"id"`
	ReferenceID string    `json:"reference_id"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

type otlJSON struct {
	Code      string    `json:"code"`
	Short     string    `json:"short"`
	InquiryID string    `json:"inquiry_id"`
	SessionID string    `json:"session_id"`
	ExpiresAt time.Time `json:"expires_at"`
	FirstUsed time.Time `json:"first_used"`
	Browser   string    `json:"browser,omitempty"`
}

type idemJSON struct {
	Fingerprint string    `json:"fingerprint"`
	Status      int       `json:"status"`
	Body        []byte    `json:"body"`
	RequestID   string    `json:"request_id"`
	At          time.Time `json:"at"`
}

// stateStore writes the snapshots of one sandbox to its file.
type stateStore struct {
	path string
	mu   sync.Mutex // one snapshot at a time, in the order they were taken
	last []byte     // what the file holds now
}

// Open is New with the state of Options.StateFile read back, when one is set (a missing file
// is a fresh start).
func Open(opts Options) (*Sandbox, error) {
	file := opts.StateFile
	opts.StateFile = ""
	s := New(opts)
	if file == "" {
		return s, nil
	}
	st := &stateStore{path: file}
	b, err := os.ReadFile(file)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		s.Close()
		return nil, fmt.Errorf("sandbox: read state: %w", err)
	default:
		if err := s.restore(b); err != nil {
			s.Close()
			return nil, fmt.Errorf("sandbox: state file %s: %w", file, err)
		}
		st.last = b
	}
	s.store = st
	return s, nil
}

// persist writes the state if it changed since the last write. It returns once the new state
// is on disk.
func (s *Sandbox) persist() error {
	st := s.store
	if st == nil {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	b, err := s.snapshot()
	if err != nil {
		return err
	}
	if bytes.Equal(b, st.last) {
		return nil
	}
	if err := durable.WriteFile(st.path, b); err != nil {
		return fmt.Errorf("sandbox: write state: %w", err)
	}
	st.last = b
	return nil
}

// snapshot renders the state as JSON.
func (s *Sandbox) snapshot() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock.mu.Lock()
	st := stateJSON{Version: stateVersion, Seq: s.seq, Clock: s.clock.last, JWTKey: s.jwtKey, Idempotency: map[string]idemJSON{}}
	s.clock.mu.Unlock()
	for _, q := range s.order {
		j := inquiryJSON{Seq: q.seq, ID: q.id, Status: q.status, ReferenceID: q.referenceID, Note: q.note,
			Tags: q.tags, Creator: q.creator, ReviewerComment: q.reviewerComment, PrevStep: q.prevStep,
			NextStep: q.nextStep, Fields: map[string]fieldJSON{}, CustomKeys: q.customKeys, Template: q.tmpl.id,
			AccountID: q.accountID, Reviewer: q.reviewer, Verifications: q.verifications, Sessions: q.sessions,
			RedirectURI: q.redirectURI, Step: q.step, Outcome: q.outcome,
			Expiries: [4]time.Duration{q.expCreate, q.expStart, q.expResume, q.otlExpiry}}
		for i, t := range inquiryTimes(q) {
			j.Times[i] = *t
		}
		for k, f := range q.fields {
			j.Fields[k] = fieldJSON(f)
		}
		st.Inquiries = append(st.Inquiries, j)
	}
	for _, q := range s.order { // verifications and sessions in their inquiry's order: a stable file
		for _, id := range q.verifications {
			v := s.verifs[id]
			if v == nil {
				continue
			}
			attrs, err := json.Marshal(v.attrs)
			if err != nil {
				return nil, fmt.Errorf("sandbox: state: %w", err)
			}
			j := verificationJSON{ID: v.id, Type: v.vtype, Status: v.status, InquiryID: v.inquiryID, Step: v.step.name,
				Times: [4]time.Time{v.createdAt, v.submittedAt, v.completedAt, v.redactedAt}, CountryCode: v.countryCode, Attrs: attrs}
			for _, c := range v.checks {
				j.Checks = append(j.Checks, checkJSON{c.name, c.status, c.reasons, c.requirement})
			}
			st.Verifications = append(st.Verifications, j)
		}
		for _, id := range q.sessions {
			if ss := s.sessions[id]; ss != nil {
				st.Sessions = append(st.Sessions, sessionJSON{ID: ss.id, InquiryID: ss.inquiryID, Status: ss.status,
					Times: [4]time.Time{ss.createdAt, ss.startedAt, ss.expiredAt, ss.expiresAt}, IP: ss.ip, UserAgent: ss.userAgent, Handoff: ss.handoff})
			}
		}
	}
	for _, a := range s.accounts {
		st.Accounts = append(st.Accounts, accountJSON{a.id, a.referenceID, a.createdAt, a.updatedAt})
	}
	for k, l := range s.otls {
		if k == l.code { // each link is kept under its code and its short code
			st.OneTimeLinks = append(st.OneTimeLinks, otlJSON{l.code, l.short, l.inquiryID, l.sessionID, l.expiresAt, l.firstUsed, l.browser})
		}
	}
	// Maps marshal in key order; sort the rest so an unchanged state is byte-for-byte the same.
	slices.SortFunc(st.Accounts, func(a, b accountJSON) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(st.OneTimeLinks, func(a, b otlJSON) int { return strings.Compare(a.Code, b.Code) })
	s.idem.mu.Lock()
	for k, e := range s.idem.m {
		if e.done { // a key still in flight has no answer yet: its request was not answered either
			st.Idempotency[k] = idemJSON{e.fingerprint, e.status, e.body, e.requestID, e.at}
		}
	}
	s.idem.mu.Unlock()
	return json.Marshal(st)
}

// restore loads a snapshot into a new sandbox and re-arms the expiry timers.
func (s *Sandbox) restore(b []byte) error {
	var st stateJSON
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // field values keep the types the API stored: json.Number, not float64
	if err := d.Decode(&st); err != nil {
		return fmt.Errorf("not a sandbox state: %w", err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("state version %d, this sandbox reads %d", st.Version, stateVersion)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq = st.Seq
	s.clock.last = st.Clock
	if len(st.JWTKey) == 32 {
		s.jwtKey = st.JWTKey // hosted-flow tokens handed out before the restart stay valid
	}
	for _, j := range st.Inquiries {
		tmpl := s.tmplByID[j.Template]
		if tmpl == nil {
			return fmt.Errorf("inquiry %s: unknown template %s", j.ID, j.Template)
		}
		q := &inquiry{seq: j.Seq, id: j.ID, status: j.Status, referenceID: j.ReferenceID, note: j.Note, tags: j.Tags,
			creator: j.Creator, reviewerComment: j.ReviewerComment, prevStep: j.PrevStep, nextStep: j.NextStep,
			fields: map[string]field{}, customKeys: j.CustomKeys, tmpl: tmpl, accountID: j.AccountID, reviewer: j.Reviewer,
			verifications: j.Verifications, sessions: j.Sessions, redirectURI: j.RedirectURI, step: j.Step, outcome: j.Outcome,
			expCreate: j.Expiries[0], expStart: j.Expiries[1], expResume: j.Expiries[2], otlExpiry: j.Expiries[3]}
		for i, t := range inquiryTimes(q) {
			*t = j.Times[i]
		}
		for k, f := range j.Fields {
			q.fields[k] = field(f)
		}
		s.inquiries[q.id] = q
		s.order = append(s.order, q)
	}
	for _, j := range st.Verifications {
		var step stepDef
		for _, fs := range flowSteps {
			if fs.name == j.Step {
				step = fs
			}
		}
		attrs, err := decodeObj(j.Attrs)
		if err != nil {
			return fmt.Errorf("verification %s: %w", j.ID, err)
		}
		v := &verification{id: j.ID, vtype: j.Type, status: j.Status, inquiryID: j.InquiryID, step: step,
			createdAt: j.Times[0], submittedAt: j.Times[1], completedAt: j.Times[2], redactedAt: j.Times[3],
			countryCode: j.CountryCode, attrs: attrs}
		for _, c := range j.Checks {
			v.checks = append(v.checks, check{c.Name, c.Status, c.Reasons, c.Requirement})
		}
		s.verifs[v.id] = v
	}
	for _, j := range st.Sessions {
		s.sessions[j.ID] = &session{id: j.ID, inquiryID: j.InquiryID, status: j.Status, createdAt: j.Times[0],
			startedAt: j.Times[1], expiredAt: j.Times[2], expiresAt: j.Times[3], ip: j.IP, userAgent: j.UserAgent, handoff: j.Handoff}
	}
	for _, j := range st.Accounts {
		a := &account{id: j.ID, referenceID: j.ReferenceID, createdAt: j.CreatedAt, updatedAt: j.UpdatedAt}
		s.accounts[a.id] = a
		if a.referenceID != "" {
			s.accountsByRef[a.referenceID] = a
		}
	}
	for _, j := range st.OneTimeLinks {
		l := &oneTimeLink{code: j.Code, short: j.Short, inquiryID: j.InquiryID, sessionID: j.SessionID, expiresAt: j.ExpiresAt, firstUsed: j.FirstUsed, browser: j.Browser}
		s.otls[l.code], s.otls[l.short] = l, l
	}
	for k, e := range st.Idempotency {
		s.idem.m[k] = &idemEntry{fingerprint: e.Fingerprint, done: true, status: e.Status, body: e.Body, requestID: e.RequestID, at: e.At}
	}
	for _, q := range s.order {
		s.scheduleExpiry(q) // an inquiry whose expiry passed while the sandbox was down expires now
	}
	return nil
}

// decodeObj reads a JSON object into an obj, keeping its keys in order.
func decodeObj(b []byte) (obj, error) {
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("attributes are not a JSON object")
	}
	var o obj
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string)
		var v any
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
		o = append(o, kv{k, v})
	}
	return o, nil
}

// ---- write-ahead and held answers ----

// bufferedResponse keeps a handler's answer until the state it reports is on disk.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

// serveDurable answers r, making what it changed durable before the answer goes out, and
// withholds the answer when Knobs.HoldAnswers asks for it.
func (s *Sandbox) serveDurable(w http.ResponseWriter, r *http.Request, route func(http.ResponseWriter, *http.Request)) {
	if s.store == nil && s.Knobs().HoldAnswers == 0 {
		route(w, r)
		return
	}
	b := &bufferedResponse{header: http.Header{}}
	route(b, r)
	if err := s.persist(); err != nil {
		// What was done stays in memory (a retry with the same key replays it), but it is not
		// durable: say so rather than answer as if it were.
		writeJSON(w, errResult(http.StatusInternalServerError, "Service unavailable", err.Error()))
		return
	}
	if mutating(r) && strings.HasPrefix(r.URL.Path, "/api/v1/") && b.status < 300 && s.takeHold() {
		s.counters.held.Add(1)
		select { // carried out and stored; the answer is lost, as in a crash before it was sent
		case <-r.Context().Done():
		case <-s.ctx.Done():
		}
		return
	}
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	io.Copy(w, &b.body)
}

func mutating(r *http.Request) bool {
	return r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
}

// takeHold uses up one answer of Knobs.HoldAnswers.
func (s *Sandbox) takeHold() bool {
	s.knobsMu.Lock()
	defer s.knobsMu.Unlock()
	if s.knobs.HoldAnswers <= 0 {
		return false
	}
	s.knobs.HoldAnswers--
	return true
}
