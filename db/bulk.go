package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// BulkJob is one bulk send: an uploaded CSV file worked through row by row.
type BulkJob struct {
	ID            int64
	Name          string // the file's name, the batch's label
	TemplateID    string
	Email         bool
	CreateAnyway  bool
	State         string // running, paused, cancelled, done
	Total         int
	CreatedBy     int64
	CreatedByName string
	CreatedAt     time.Time
	FinishedAt    time.Time
	FormKey       string // the key of the form that started it; "" from the command line
}

// BulkRow is one row of a job's file and what became of it.
type BulkRow struct {
	JobID       int64
	Line        int
	ReferenceID string
	Input       string // the row's fields as JSON (see package bulk)
	Class       string
	Key         string // the create's idempotency key, stored before any call
	State       string
	Detail      string
	InquiryID   string
	Link        string
	EmailID     int64
	Attempts    int
	NextAt      time.Time
	DoneAt      time.Time
}

// Bulk job and row states.
const (
	BulkRunning   = "running"
	BulkPaused    = "paused"
	BulkCancelled = "cancelled"
	BulkDone      = "done"

	RowPending = "pending"
)

// CreateBulkJob stores the job with all its rows (each with its key) and the audit entry in one
// transaction. A job whose rows are all settled already (nothing to create) is done at once.
// A job with the FormKey of one stored before is not stored again: that job's id is returned,
// with existing true.
func (d *DB) CreateBulkJob(ctx context.Context, j BulkJob, rows []BulkRow, audit AuditEntry) (id int64, existing bool, err error) {
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		if j.FormKey != "" {
			err := tx.QueryRowContext(ctx, `SELECT id FROM bulk_jobs WHERE form_key = ?`, j.FormKey).Scan(&id)
			if err == nil {
				existing = true
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO bulk_jobs (name, template_id, email, create_anyway, state, total, created_by, created_by_name, created_at, form_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, j.Name, j.TemplateID, j.Email, j.CreateAnyway, BulkRunning, len(rows), nullID(j.CreatedBy), j.CreatedByName, Now(),
			sql.NullString{String: j.FormKey, Valid: j.FormKey != ""})
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO bulk_rows (job_id, line, reference_id, input, class, idempotency_key, state, detail, done_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		pending := 0
		for _, r := range rows {
			var done sql.NullInt64
			if r.State != RowPending {
				done = sql.NullInt64{Int64: Now(), Valid: true}
			} else {
				pending++
			}
			if _, err := st.ExecContext(ctx, id, r.Line, r.ReferenceID, r.Input, r.Class, r.Key, r.State, r.Detail, done); err != nil {
				return err
			}
		}
		if pending == 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE bulk_jobs SET state = ?, finished_at = ? WHERE id = ?`, BulkDone, Now(), id); err != nil {
				return err
			}
		}
		audit.Target = fmt.Sprintf("bulk job %d", id)
		return AddAudit(ctx, tx, audit)
	})
	if err != nil {
		return 0, false, fmt.Errorf("db: create bulk job: %w", err)
	}
	return id, existing, nil
}

const bulkJobCols = `id, name, template_id, email, create_anyway, state, total, COALESCE(created_by, 0), created_by_name, created_at, finished_at`

func scanBulkJob(row scanner) (*BulkJob, error) {
	var j BulkJob
	var created int64
	var finished sql.NullInt64
	if err := row.Scan(&j.ID, &j.Name, &j.TemplateID, &j.Email, &j.CreateAnyway, &j.State, &j.Total, &j.CreatedBy, &j.CreatedByName, &created, &finished); err != nil {
		return nil, err
	}
	j.CreatedAt, j.FinishedAt = time.UnixMilli(created), fromMS(finished)
	return &j, nil
}

// GetBulkJob returns the job, or ErrNotFound.
func (d *DB) GetBulkJob(ctx context.Context, id int64) (*BulkJob, error) {
	j, err := scanBulkJob(d.R.QueryRowContext(ctx, `SELECT `+bulkJobCols+` FROM bulk_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: get bulk job: %w", err)
	}
	return j, nil
}

// BulkJobs returns the newest jobs first.
func (d *DB) BulkJobs(ctx context.Context, limit int) ([]BulkJob, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT `+bulkJobCols+` FROM bulk_jobs ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("db: bulk jobs: %w", err)
	}
	defer rows.Close()
	var out []BulkJob
	for rows.Next() {
		j, err := scanBulkJob(rows)
		if err != nil {
			return nil, fmt.Errorf("db: bulk jobs: %w", err)
		}
		out = append(out, *j)
	}
	return out, rows.Err()
}

// BulkCounts returns the job's rows per state.
func (d *DB) BulkCounts(ctx context.Context, jobID int64) (map[string]int, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT state, count(*) FROM bulk_rows WHERE job_id = ? GROUP BY state`, jobID)
	if err != nil {
		return nil, fmt.Errorf("db: bulk counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("db: bulk counts: %w", err)
		}
		out[s] = n
	}
	return out, rows.Err()
}

const bulkRowCols = `job_id, line, reference_id, input, class, idempotency_key, state, detail, COALESCE(inquiry_id, ''), link, COALESCE(email_id, 0), attempts, next_attempt_at, done_at`

func scanBulkRow(row scanner) (*BulkRow, error) {
	var r BulkRow
	var next int64
	var done sql.NullInt64
	if err := row.Scan(&r.JobID, &r.Line, &r.ReferenceID, &r.Input, &r.Class, &r.Key, &r.State, &r.Detail, &r.InquiryID, &r.Link, &r.EmailID, &r.Attempts, &next, &done); err != nil {
		return nil, err
	}
	r.NextAt, r.DoneAt = time.UnixMilli(next), fromMS(done)
	return &r, nil
}

// BulkRows calls fn for each of the job's rows in file order, without holding them all in memory.
func (d *DB) BulkRows(ctx context.Context, jobID int64, fn func(BulkRow) error) error {
	rows, err := d.R.QueryContext(ctx, `SELECT `+bulkRowCols+` FROM bulk_rows WHERE job_id = ? ORDER BY line`, jobID)
	if err != nil {
		return fmt.Errorf("db: bulk rows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanBulkRow(rows)
		if err != nil {
			return fmt.Errorf("db: bulk rows: %w", err)
		}
		if err := fn(*r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SetBulkJobState pauses, resumes or cancels a job that is not finished. Cancelling settles its
// pending rows as cancelled, but for those a worker holds, so the job says what it did and what
// it left undone. It reports
// false when the job was already done or cancelled.
func (d *DB) SetBulkJobState(ctx context.Context, id int64, state string, audit AuditEntry) (bool, error) {
	if state != BulkRunning && state != BulkPaused && state != BulkCancelled {
		return false, fmt.Errorf("db: set bulk job %d state: %q is not running, paused or cancelled", id, state)
	}
	changed := false
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var finished sql.NullInt64
		if state == BulkCancelled {
			finished = sql.NullInt64{Int64: Now(), Valid: true}
		}
		res, err := tx.ExecContext(ctx, `UPDATE bulk_jobs SET state = ?, finished_at = ? WHERE id = ? AND state IN ('running', 'paused') AND state != ?`, state, finished, id, state) // a second click changes nothing
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		changed = true
		if state == BulkCancelled {
			// A row a worker holds may be being created and emailed: it stays pending, and the
			// worker records what it did (FinishBulkRow).
			now := Now()
			if _, err := tx.ExecContext(ctx, `UPDATE bulk_rows SET state = 'cancelled', detail = 'Not done: the job was cancelled.', done_at = ?1
				WHERE job_id = ?2 AND state = 'pending' AND leased_until <= ?1`, now, id); err != nil {
				return err
			}
			if audit.Detail, err = bulkSummary(ctx, tx, id); err != nil {
				return err
			}
		}
		audit.Target = fmt.Sprintf("bulk job %d", id)
		return AddAudit(ctx, tx, audit)
	})
	if err != nil {
		return false, fmt.Errorf("db: set bulk job state: %w", err)
	}
	return changed, nil
}

// bulkSummary says in words what the job's rows came to, e.g. "3 created, 1 failed".
func bulkSummary(ctx context.Context, tx *sql.Tx, id int64) (string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT state, count(*) FROM bulk_rows WHERE job_id = ? GROUP BY state ORDER BY state`, id)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	s := ""
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return "", err
		}
		if s != "" {
			s += ", "
		}
		if st == RowPending { // only a cancelled job's rows held by a worker then
			st = "in flight (logged when it ends)"
		}
		s += fmt.Sprintf("%d %s", n, st)
	}
	return s, rows.Err()
}
