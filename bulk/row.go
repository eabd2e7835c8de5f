package bulk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
)

// maxAttempts bounds the tries of a row Persona keeps failing (5xx, 429 storms, timeouts).
const maxAttempts = 8

// process creates (or reuses) the row's inquiry and queues its email. Every step is keyed by
// the row's stored key, so a row repeated after a crash creates and sends nothing twice.
func (e *Engine) process(ctx context.Context, job *db.BulkJob, row *db.BulkRow) {
	a := model.Actor{ID: job.CreatedBy, Name: job.CreatedByName}
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
		e.retry(ctx, a, row, worded("someone else is creating an inquiry for "+in.ReferenceID+" right now"))
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
			case errors.Is(err, inquiry.ErrInvalidRecipient), errors.Is(err, inquiry.ErrNoLinkNeeded), errors.Is(err, inquiry.ErrNotOwnAddress),
				errors.Is(err, inquiry.ErrEmailWording): // waiting mends none of these: the row is done, unsent
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

func (e *Engine) finish(ctx context.Context, a model.Actor, r db.BulkRow) {
	ctx = context.WithoutCancel(ctx) // the outcome is recorded even during shutdown
	if _, err := e.db.FinishBulkRow(ctx, r, db.AuditEntry{UserID: a.ID, Actor: a.Name, Action: "bulk.done"}); err != nil {
		e.log.Error("bulk: record row", "job", r.JobID, "line", r.Line, "err", err)
	}
	e.progress(r.JobID)
}

// retry leaves the row pending with a backoff, or fails it: at once when Persona refused it
// (repeating cannot help), after maxAttempts otherwise.
func (e *Engine) retry(ctx context.Context, a model.Actor, row *db.BulkRow, err error) {
	if ctx.Err() != nil {
		return // shutting down: the row stays pending and is resumed at the next start
	}
	words := rowWords(err)
	// Waiting mends neither a refusal nor a console without Persona configured.
	if persona.IsRefused(err) || errors.Is(err, inquiry.ErrNotConfigured) || row.Attempts+1 >= maxAttempts {
		e.log.Warn("bulk: row failed", "job", row.JobID, "line", row.Line, "err", err)
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

// worded is an error whose text is written for staff, shown in a row's detail as it is.
type worded string

func (w worded) Error() string { return string(w) }

// rowWords says why a row failed or waits, for its detail: Persona's refusals and outages
// explained, the console's own words as they are, and anything else (a database error) only as
// the console's fault, its text left to the log.
func rowWords(err error) string {
	var w worded
	switch {
	case inquiry.IsPersonaError(err):
		return persona.Explain(err)
	case errors.As(err, &w):
		return string(w)
	default:
		return "an error in the console itself (its details are in the server's log)"
	}
}
