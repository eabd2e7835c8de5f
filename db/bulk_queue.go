package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// NextBulkRow takes the first pending row due by now of the oldest running job, leasing it for
// lease: another worker on the same database (the console and a `linkdesk bulk`) leaves it
// alone meanwhile, and takes one left by a crash after it. It returns ErrNotFound with the
// earliest time a pending row of a running job comes due (zero when there is none).
func (d *DB) NextBulkRow(ctx context.Context, now time.Time, lease time.Duration) (*BulkJob, *BulkRow, time.Time, error) {
	var jobID int64
	var line int
	// One statement on the one writer connection: two workers never take the same row.
	err := d.W.QueryRowContext(ctx, `UPDATE bulk_rows SET next_attempt_at = ?1, leased_until = ?1
		WHERE (job_id, line) = (SELECT r.job_id, r.line FROM bulk_rows r JOIN bulk_jobs j ON j.id = r.job_id
			WHERE j.state = 'running' AND r.state = 'pending' AND r.next_attempt_at <= ?2 ORDER BY r.job_id, r.line LIMIT 1)
		RETURNING job_id, line`, now.Add(lease).UnixMilli(), now.UnixMilli()).Scan(&jobID, &line)
	if errors.Is(err, sql.ErrNoRows) {
		var next sql.NullInt64
		err := d.R.QueryRowContext(ctx, `SELECT min(r.next_attempt_at) FROM bulk_rows r JOIN bulk_jobs j ON j.id = r.job_id
			WHERE j.state = 'running' AND r.state = 'pending'`).Scan(&next)
		if err != nil {
			return nil, nil, time.Time{}, fmt.Errorf("db: next bulk row: %w", err)
		}
		return nil, nil, fromMS(next), ErrNotFound
	}
	if err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("db: next bulk row: %w", err)
	}
	j, err := d.GetBulkJob(ctx, jobID)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	r, err := scanBulkRow(d.W.QueryRowContext(ctx, `SELECT `+bulkRowCols+` FROM bulk_rows WHERE job_id = ? AND line = ?`, jobID, line))
	if err != nil {
		return nil, nil, time.Time{}, fmt.Errorf("db: next bulk row: %w", err)
	}
	return j, r, time.Time{}, nil
}

// RetryBulkRow leaves the row pending for another try at next, with the last problem in words.
// A row of a job cancelled while it was in flight is settled instead: nothing more is tried.
func (d *DB) RetryBulkRow(ctx context.Context, jobID int64, line int, detail string, next time.Time, done AuditEntry) error {
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var state string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM bulk_jobs WHERE id = ?`, jobID).Scan(&state); err != nil {
			return err
		}
		if state == BulkCancelled {
			_, err := finishRow(ctx, tx, BulkRow{JobID: jobID, Line: line, State: BulkCancelled, Detail: "Not done: the job was cancelled while this row was tried (" + detail + ")."}, done)
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE bulk_rows SET attempts = attempts + 1, detail = ?, next_attempt_at = ?, leased_until = 0 WHERE job_id = ? AND line = ? AND state = 'pending'`,
			detail, next.UnixMilli(), jobID, line)
		return err
	})
	if err != nil {
		return fmt.Errorf("db: retry bulk row: %w", err)
	}
	return nil
}

// FinishBulkRow records the row's outcome; the job is done with its last pending row, which is
// audited with the job's totals in the same transaction. The last row of a job cancelled while
// it was in flight is audited too, with the totals the cancel could not know.
func (d *DB) FinishBulkRow(ctx context.Context, r BulkRow, done AuditEntry) (jobDone bool, err error) {
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		jobDone, err = finishRow(ctx, tx, r, done)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("db: finish bulk row: %w", err)
	}
	return jobDone, nil
}

func finishRow(ctx context.Context, tx *sql.Tx, r BulkRow, done AuditEntry) (jobDone bool, err error) {
	res, err := tx.ExecContext(ctx, `UPDATE bulk_rows SET state = ?, detail = ?, inquiry_id = ?, link = ?, email_id = ?, done_at = ?, leased_until = 0
		WHERE job_id = ? AND line = ? AND state = 'pending'`,
		r.State, r.Detail, sql.NullString{String: r.InquiryID, Valid: r.InquiryID != ""}, r.Link, nullID(r.EmailID), Now(), r.JobID, r.Line)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil // settled already
	}
	var left int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM bulk_rows WHERE job_id = ? AND state = 'pending'`, r.JobID).Scan(&left); err != nil {
		return false, err
	}
	if left > 0 {
		return false, nil
	}
	var state string
	if err := tx.QueryRowContext(ctx, `SELECT state FROM bulk_jobs WHERE id = ?`, r.JobID).Scan(&state); err != nil {
		return false, err
	}
	summary, err := bulkSummary(ctx, tx, r.JobID)
	if err != nil {
		return false, err
	}
	done.Target = fmt.Sprintf("bulk job %d", r.JobID)
	switch state {
	case BulkCancelled:
		done.Detail = "Cancelled; with the rows in flight then ended: " + summary
	case BulkRunning, BulkPaused: // a job paused while its last row was in flight is done too
		if _, err := tx.ExecContext(ctx, `UPDATE bulk_jobs SET state = ?, finished_at = ? WHERE id = ?`, BulkDone, Now(), r.JobID); err != nil {
			return false, err
		}
		jobDone, done.Detail = true, summary
	default:
		return false, nil
	}
	return jobDone, AddAudit(ctx, tx, done)
}

// SettleAbandonedBulkRows settles the rows a worker held when their job was cancelled and that
// it never recorded (it stopped, or crashed): their lease has run out and no worker takes a
// cancelled job's row, so they would stay pending. Whether their create or email went out is
// not known, and their outcome says so.
func (d *DB) SettleAbandonedBulkRows(ctx context.Context, now time.Time, done AuditEntry) error {
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT r.job_id, r.line FROM bulk_rows r JOIN bulk_jobs j ON j.id = r.job_id
			WHERE j.state = 'cancelled' AND r.state = 'pending' AND r.leased_until <= ?`, now.UnixMilli())
		if err != nil {
			return err
		}
		var left []BulkRow
		for rows.Next() {
			var r BulkRow
			if err := rows.Scan(&r.JobID, &r.Line); err != nil {
				rows.Close()
				return err
			}
			left = append(left, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range left {
			r.State, r.Detail = BulkCancelled, "Not known whether it was created or emailed: the job was cancelled while a worker that then stopped held this row. Look the person up in the list."
			if _, err := finishRow(ctx, tx, r, done); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("db: settle abandoned bulk rows: %w", err)
	}
	return nil
}
