package bulk

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
)

// Row outcomes besides db.RowPending.
const (
	Created   = "created"
	Reused    = "reused"  // an open inquiry's link was used
	Resumed   = "resumed" // a started inquiry is resumed
	Skipped   = "skipped"
	Failed    = "failed"
	Cancelled = "cancelled"
)

// Engine runs bulk jobs over the inquiry service.
type Engine struct {
	db   *db.DB
	inq  *inquiry.Service
	log  *slog.Logger
	wake chan struct{}

	// Reserve is how many requests of the client's burst the worker leaves for staff: it takes
	// a call only when more than Reserve are free. Zero: a third of the burst.
	Reserve int
	// Backoff is the wait before a failed row's first retry, doubling after; zero: 2 s.
	Backoff time.Duration
	// Lease is how long the worker holds a row it took (see db.NextBulkRow): a row a crash
	// left half done waits this long after a restart. Its create and email are keyed, so a
	// row taken twice still creates and sends once. Zero: 30 s.
	Lease time.Duration
	// OnProgress, when set, is told the job id after each row (the page's live progress).
	OnProgress func(jobID int64)
	// GuardWindow is how old the cache may be for the duplicate guard to decide from it alone
	// (see cacheGuard); zero: 2 minutes.
	GuardWindow time.Duration

	syncTried time.Time // the worker's last own sync pass (Run's goroutine only)
	owner     string    // this engine's name in the database's bulk worker claim
}

// New builds the engine; Run works through the jobs.
func New(d *db.DB, inq *inquiry.Service, log *slog.Logger) *Engine {
	return &Engine{db: d, inq: inq, log: log, wake: make(chan struct{}, 1), owner: "worker-" + inquiry.NewKey()[:16]}
}

// Wake tells the worker that a job was started or resumed.
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Start stores the job with every row of the checked file (a row per line, so the results
// show each) and wakes the worker. Rows that need no call are settled at once: invalid,
// duplicate, and already verified unless CreateAnyway. A second Start with the FormKey of a
// job returns that job's id and stores nothing.
func (e *Engine) Start(ctx context.Context, a model.Actor, name string, o Options, c *Checked) (int64, error) {
	rows := make([]db.BulkRow, 0, len(c.Rows))
	for _, r := range c.Rows {
		choice := ""
		if r.Class == Differs {
			choice = o.Choice(r.Line)
		}
		br := db.BulkRow{Line: r.Line, ReferenceID: r.Input.ReferenceID, Input: encodeInput(r.Input, choice), Class: r.Class, Key: rowKey(), State: db.RowPending}
		switch {
		case choice == ChoiceSkip:
			br.State, br.Detail = Skipped, differsSkipped(r.Existing, r.Diffs)
		case r.Class == Invalid:
			br.State, br.Detail = Failed, "Invalid: "+r.Problem
		case r.Class == Duplicate:
			br.State, br.Detail = Skipped, r.Problem
		case r.Class == Verified && !o.CreateAnyway:
			br.State, br.Detail, br.InquiryID = Skipped, r.Problem, r.Existing
		}
		rows = append(rows, br)
	}
	detail := fmt.Sprintf("%s: %d rows (%s), template %s", name, len(rows), c.Summary(), o.TemplateID)
	if o.Email {
		detail += ", emailing the links"
	}
	id, _, err := e.db.CreateBulkJob(ctx, db.BulkJob{Name: name, TemplateID: o.TemplateID, Email: o.Email, CreateAnyway: o.CreateAnyway,
		CreatedBy: a.ID, CreatedByName: a.Name, FormKey: o.FormKey}, rows, db.AuditEntry{UserID: a.ID, Actor: a.Name, Action: "bulk.start", Detail: detail})
	if err != nil {
		return 0, err
	}
	e.Wake()
	return id, nil
}

// Pause, Resume and Cancel change a job that has not finished; they report false when it had.
func (e *Engine) Pause(ctx context.Context, a model.Actor, id int64) (bool, error) {
	return e.setState(ctx, a, id, db.BulkPaused, "bulk.pause")
}

// Resume continues a paused job.
func (e *Engine) Resume(ctx context.Context, a model.Actor, id int64) (bool, error) {
	ok, err := e.setState(ctx, a, id, db.BulkRunning, "bulk.resume")
	e.Wake()
	return ok, err
}

// Cancel stops the job; its pending rows are settled as cancelled.
func (e *Engine) Cancel(ctx context.Context, a model.Actor, id int64) (bool, error) {
	return e.setState(ctx, a, id, db.BulkCancelled, "bulk.cancel")
}

func (e *Engine) setState(ctx context.Context, a model.Actor, id int64, state, action string) (bool, error) {
	ok, err := e.db.SetBulkJobState(ctx, id, state, db.AuditEntry{UserID: a.ID, Actor: a.Name, Action: action})
	if ok {
		e.progress(id)
	}
	return ok, err
}

func (e *Engine) progress(id int64) {
	if e.OnProgress != nil {
		e.OnProgress(id)
	}
}

// Progress is where a job stands.
type Progress struct {
	Job      db.BulkJob
	Done     int            // rows settled
	Failed   int            // rows failed so far
	Counts   map[string]int // rows per state
	Left     time.Duration  // estimate of the time left at the rate limit
	Finished bool
}

// Progress reports the job's counts and an estimate of the time left.
func (e *Engine) Progress(ctx context.Context, id int64) (*Progress, error) {
	j, err := e.db.GetBulkJob(ctx, id)
	if err != nil {
		return nil, err
	}
	counts, err := e.db.BulkCounts(ctx, id)
	if err != nil {
		return nil, err
	}
	p := &Progress{Job: *j, Counts: counts, Failed: counts[Failed], Done: j.Total - counts[db.RowPending],
		Finished: j.State == db.BulkDone || j.State == db.BulkCancelled}
	if c, err := e.inq.Client(); err == nil {
		p.Left = time.Duration(counts[db.RowPending]*e.CallsPerRow(ctx)) * c.Interval()
	}
	return p, nil
}

// CallsPerRow is the Persona calls a new person's row costs: its create, and the guard's
// look-up unless the cache is complete (see cacheGuard).
func (e *Engine) CallsPerRow(ctx context.Context) int {
	if complete, err := e.inq.CacheComplete(ctx); err == nil && complete {
		return 1
	}
	return 2
}
