package bulk

import (
	"context"
	"errors"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
)

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
				if err := e.db.SettleAbandonedBulkRows(ctx, time.Now(), db.AuditEntry{Actor: model.System.Name, Action: "bulk.done"}); err != nil && ctx.Err() == nil {
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
