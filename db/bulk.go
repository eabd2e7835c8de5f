package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
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

func scanBulkJob(row interface{ Scan(...any) error }) (*BulkJob, error) {
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

func scanBulkRow(row interface{ Scan(...any) error }) (*BulkRow, error) {
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

// One bulk worker per database at a time: the console's and a `linkdesk bulk` share Persona's
// rate limit, and two of them working at once each spent the whole of it (429s, delayed
// creates). The claim is a settings row, "<owner> <until ms>", renewed by its holder.
const bulkWorkerKey = "bulk_worker"

// ClaimBulkWorker makes owner the database's bulk worker until now+ttl, unless another
// owner's claim still stands: then ok is false and until is when that claim ends.
func (d *DB) ClaimBulkWorker(ctx context.Context, owner string, now time.Time, ttl time.Duration) (ok bool, until time.Time, err error) {
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		var v string
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, bulkWorkerKey).Scan(&v)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if holder, end := parseWorkerClaim(v); holder != "" && holder != owner && end.After(now) {
			until = end
			return nil
		}
		ok = true
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
			bulkWorkerKey, fmt.Sprintf("%s %d", owner, now.Add(ttl).UnixMilli()))
		return err
	})
	if err != nil {
		return false, time.Time{}, fmt.Errorf("db: claim bulk worker: %w", err)
	}
	return ok, until, nil
}

// BulkWorker returns the standing claim's owner and end ("" when there is none).
func (d *DB) BulkWorker(ctx context.Context, now time.Time) (string, time.Time, error) {
	var v string
	err := d.R.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, bulkWorkerKey).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, fmt.Errorf("db: bulk worker: %w", err)
	}
	holder, end := parseWorkerClaim(v)
	if !end.After(now) {
		return "", time.Time{}, nil
	}
	return holder, end, nil
}

// ReleaseBulkWorker ends owner's claim, if it holds one.
func (d *DB) ReleaseBulkWorker(ctx context.Context, owner string) error {
	if _, err := d.W.ExecContext(ctx, `DELETE FROM settings WHERE key = ? AND value LIKE ? ESCAPE '\'`, bulkWorkerKey, strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(owner)+" %"); err != nil {
		return fmt.Errorf("db: release bulk worker: %w", err)
	}
	return nil
}

func parseWorkerClaim(v string) (string, time.Time) {
	holder, ms, ok := strings.Cut(v, " ")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil {
		return "", time.Time{}
	}
	return holder, time.UnixMilli(n)
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
