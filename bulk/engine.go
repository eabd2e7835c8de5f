package bulk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
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

// maxAttempts bounds the tries of a row Persona keeps failing (5xx, 429 storms, timeouts).
const maxAttempts = 8

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
func (e *Engine) Start(ctx context.Context, a inquiry.Actor, name string, o Options, c *Checked) (int64, error) {
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
func (e *Engine) Pause(ctx context.Context, a inquiry.Actor, id int64) (bool, error) {
	return e.setState(ctx, a, id, db.BulkPaused, "bulk.pause")
}

// Resume continues a paused job.
func (e *Engine) Resume(ctx context.Context, a inquiry.Actor, id int64) (bool, error) {
	ok, err := e.setState(ctx, a, id, db.BulkRunning, "bulk.resume")
	e.Wake()
	return ok, err
}

// Cancel stops the job; its pending rows are settled as cancelled.
func (e *Engine) Cancel(ctx context.Context, a inquiry.Actor, id int64) (bool, error) {
	return e.setState(ctx, a, id, db.BulkCancelled, "bulk.cancel")
}

func (e *Engine) setState(ctx context.Context, a inquiry.Actor, id int64, state, action string) (bool, error) {
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

// Run works through the running jobs, one row at a time, until ctx ends. One engine per
// database works at a time (a console's, or a `linkdesk bulk`'s): the others wait while its
// claim stands, so two never share Persona's rate limit unawares (see db.ClaimBulkWorker).
func (e *Engine) Run(ctx context.Context) {
	defer func() {
		if err := e.db.ReleaseBulkWorker(context.WithoutCancel(ctx), e.owner); err != nil {
			e.log.Warn("bulk: release the worker claim", "err", err)
		}
	}()
	for ctx.Err() == nil {
		lease := e.Lease
		if lease == 0 {
			lease = 30 * time.Second
		}
		// Idle, the worker looks again within a third of its claim, which keeps it and finds
		// jobs another process started.
		wait := lease / 3
		ok, until, err := e.db.ClaimBulkWorker(ctx, e.owner, time.Now(), lease)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				e.log.Error("bulk: claim the worker", "err", err)
			}
		case !ok:
			wait = min(wait, max(time.Until(until), 0))
		}
		if err == nil && ok {
			var job *db.BulkJob
			var row *db.BulkRow
			var next time.Time
			job, row, next, err = e.db.NextBulkRow(ctx, time.Now(), lease)
			if err == nil {
				e.process(ctx, job, row)
				continue
			}
			if errors.Is(err, db.ErrNotFound) {
				if err := e.db.SettleAbandonedBulkRows(ctx, time.Now(), db.AuditEntry{Actor: inquiry.System.Name, Action: "bulk.done"}); err != nil && ctx.Err() == nil {
					e.log.Error("bulk: settle rows of cancelled jobs", "err", err)
				}
			}
			if errors.Is(err, db.ErrNotFound) && !next.IsZero() {
				wait = min(time.Until(next), wait)
			} else if !errors.Is(err, db.ErrNotFound) && ctx.Err() == nil {
				e.log.Error("bulk: next row", "err", err)
			}
		}
		e.sleep(ctx, wait)
	}
}

// sleep waits for d, a wake-up or the end of ctx.
func (e *Engine) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-e.wake:
	case <-t.C:
	}
}

// Working reports which other engine works through this database's jobs now ("" when none
// but this one), so a `linkdesk bulk` can say a console carries its job.
func (e *Engine) Working(ctx context.Context) (string, error) {
	holder, _, err := e.db.BulkWorker(ctx, time.Now())
	if holder == e.owner {
		holder = ""
	}
	return holder, err
}

// process creates (or reuses) the row's inquiry and queues its email. Every step is keyed by
// the row's stored key, so a row repeated after a crash creates and sends nothing twice.
func (e *Engine) process(ctx context.Context, job *db.BulkJob, row *db.BulkRow) {
	a := inquiry.Actor{ID: job.CreatedBy, Name: job.CreatedByName}
	in, choice, err := decodeInput(row.Input)
	if err != nil {
		e.finish(ctx, a, db.BulkRow{JobID: row.JobID, Line: row.Line, State: Failed, Detail: "The stored row could not be read."})
		return
	}
	in.TemplateID, in.Key, in.Confirm = job.TemplateID, row.Key, job.CreateAnyway
	in.CacheGuard = e.cacheGuard(ctx, job)
	in.Replace = choice == ChoiceNew
	if err := e.headroom(ctx); err != nil {
		e.retry(ctx, a, row, err)
		return
	}
	res, err := e.inq.Create(ctx, a, in)
	if err != nil {
		e.retry(ctx, a, row, err)
		return
	}
	out := db.BulkRow{JobID: row.JobID, Line: row.Line}
	var q *db.Inquiry
	switch res.Guard {
	case "":
		q, out.State, out.Detail = res.Inquiry, Created, "Created."
		if res.Notice != "" {
			out.Detail = "Created. " + res.Notice
		}
	case model.GuardUseExisting, model.GuardResume:
		// Checked again here: the check may not have known this inquiry (made elsewhere, found
		// at Persona now), and one person's link must not go out on what another row typed.
		if d := inquiry.Differences(res.Existing, in.Fields); len(d) > 0 && choice != ChoiceOnFile {
			out.State, out.InquiryID = Skipped, res.Existing.ID
			out.Detail = differsSkipped(res.Existing.ID, d)
			e.finish(ctx, a, out)
			return
		}
		q, out.State, out.Detail = res.Existing, Reused, "Already open and not started: its link is used."
		if res.Guard == model.GuardResume {
			out.State, out.Detail = Resumed, "Already started but not finished: it is resumed."
		}
	case model.GuardConfirm:
		out.State, out.InquiryID = Skipped, res.Existing.ID
		out.Detail = fmt.Sprintf("Already %s: skipped (tick \"Create anyway\" to make a new one).", res.Existing.Status.Phrase())
		e.finish(ctx, a, out)
		return
	case model.GuardInProgress:
		e.retry(ctx, a, row, fmt.Errorf("someone else is creating an inquiry for %s right now", in.ReferenceID))
		return
	}
	out.InquiryID = q.ID
	if job.Email {
		// Only ever the inquiry's own address: nobody typed and confirmed another for it.
		to := q.Email
		if to == "" {
			out.Detail += " No email address on file, so no email was sent."
		} else {
			if !res.Fresh {
				// Reused, resumed, or created by an earlier try: its link may be out, so Send
				// asks Persona whether the person started (a fresh one needs no call).
				if err := e.headroom(ctx); err != nil {
					e.retry(ctx, a, row, err)
					return
				}
			}
			m, err := e.inq.SendOnFile(ctx, a, q.ID, to, row.Key, res.Fresh)
			switch {
			case errors.Is(err, inquiry.ErrInvalidRecipient), errors.Is(err, inquiry.ErrNoLinkNeeded), errors.Is(err, inquiry.ErrNotOwnAddress):
				out.Detail += " Not emailed: " + err.Error() + "."
			case err != nil:
				e.retry(ctx, a, row, err)
				return
			default:
				out.EmailID = m.ID
				out.Detail += " Email queued to " + to + " (" + inquiry.RecipientBasisWords(m.RecipientBasis, "") + ")."
			}
		}
	}
	if l, err := e.inq.CurrentLink(ctx, q); err == nil && l != nil {
		out.Link = l.URL // the emailed link, when there was an email: the newest one
	}
	e.finish(ctx, a, out)
}

// differsSkipped is the outcome of a row skipped because it differs from open inquiry id.
func differsSkipped(id string, d []inquiry.Difference) string {
	return fmt.Sprintf("Differs from the open inquiry %s: %s. Skipped: nothing was sent.", id, inquiry.DifferencesText(d))
}

// cacheGuard reports whether the duplicate guard may decide a row from the cache alone, saving
// its look-up at Persona (filter[reference-id] takes one reference ID, so look-ups cannot be
// batched). The guard exists for inquiries the cache does not know: made elsewhere, or not yet
// synced. The rule: the cache answers only when it is complete (a full pass succeeded once,
// inquiry.CacheComplete) and a good sync pass started after the job did and less than
// GuardWindow ago; if none did, the worker runs one itself (an incremental pass lists every
// inquiry created since the pass before, whatever its status, 100 to a call). Otherwise, or
// should that pass fail, each row is looked up at Persona. What the cache can still miss: an
// inquiry made outside the console during the job, within the window, whose webhook has not
// arrived; a per-row look-up has the same race, only shorter.
func (e *Engine) cacheGuard(ctx context.Context, job *db.BulkJob) bool {
	window := e.GuardWindow
	if window == 0 {
		window = 2 * time.Minute
	}
	if complete, err := e.inq.CacheComplete(ctx); err != nil || !complete {
		return false
	}
	since := time.Now().Add(-window)
	if job.CreatedAt.After(since) {
		since = job.CreatedAt
	}
	if st := e.inq.SyncStatus(); !st.LastOK.IsZero() && st.LastError == "" && !st.LastOK.Add(-st.Last.Duration).Before(since) {
		return true
	}
	if e.syncTried.After(since) {
		return false // this period's pass failed: look up per row until the next try
	}
	e.syncTried = time.Now()
	if err := e.headroom(ctx); err != nil {
		return false
	}
	if _, err := e.inq.Reconcile(ctx, false, nil); err != nil {
		if ctx.Err() == nil {
			e.log.Warn("bulk: sync pass failed; the duplicate guard asks Persona per row", "err", err)
		}
		return false
	}
	return true
}

// headroom waits until the client's budget has room beyond the staff's reserve.
func (e *Engine) headroom(ctx context.Context) error {
	c, err := e.inq.Client()
	if err != nil {
		return err
	}
	reserve := e.Reserve
	if reserve == 0 {
		reserve = c.Burst() / 3
	}
	return c.WaitHeadroom(ctx, reserve)
}

func (e *Engine) finish(ctx context.Context, a inquiry.Actor, r db.BulkRow) {
	ctx = context.WithoutCancel(ctx) // the outcome is recorded even during shutdown
	if _, err := e.db.FinishBulkRow(ctx, r, db.AuditEntry{UserID: a.ID, Actor: a.Name, Action: "bulk.done"}); err != nil {
		e.log.Error("bulk: record row", "job", r.JobID, "line", r.Line, "err", err)
	}
	e.progress(r.JobID)
}

// retry leaves the row pending with a backoff, or fails it: at once when Persona refused it
// (repeating cannot help), after maxAttempts otherwise.
func (e *Engine) retry(ctx context.Context, a inquiry.Actor, row *db.BulkRow, err error) {
	if ctx.Err() != nil {
		return // shutting down: the row stays pending and is resumed at the next start
	}
	words := persona.Explain(err)
	if !inquiry.IsPersonaError(err) {
		words = err.Error()
	}
	// Waiting mends neither a refusal nor a console without Persona configured.
	if persona.IsRefused(err) || errors.Is(err, inquiry.ErrNotConfigured) || row.Attempts+1 >= maxAttempts {
		e.finish(ctx, a, db.BulkRow{JobID: row.JobID, Line: row.Line, State: Failed, Detail: "Failed: " + words})
		return
	}
	base := e.Backoff
	if base == 0 {
		base = 2 * time.Second
	}
	wait := base << row.Attempts
	if ra := persona.RetryAfter(err); ra > wait {
		wait = ra
	}
	e.log.Warn("bulk: row will be tried again", "job", row.JobID, "line", row.Line, "in", wait, "err", err)
	if err := e.db.RetryBulkRow(context.WithoutCancel(ctx), row.JobID, row.Line, "Trying again: "+words, time.Now().Add(wait),
		db.AuditEntry{UserID: a.ID, Actor: a.Name, Action: "bulk.done"}); err != nil {
		e.log.Error("bulk: retry row", "err", err)
	}
	e.progress(row.JobID)
}
