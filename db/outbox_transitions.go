package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ClaimDueEmails atomically moves up to limit queued emails that are due at now to 'sending',
// stamping claimed_at and counting the attempt, and returns them oldest due first. A claimed
// row belongs to the worker that claimed it until it is marked sent, retry or failed; a claim
// left behind by a crash is handed back by RecoverClaims.
func (d *DB) ClaimDueEmails(ctx context.Context, now time.Time, limit int) ([]OutboxEmail, error) {
	if limit <= 0 {
		limit = 1
	}
	var out []OutboxEmail
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE outbox SET state = 'sending', claimed_at = ?,
			attempts = attempts + 1
			WHERE id IN (SELECT id FROM outbox WHERE state = 'queued' AND next_attempt_at <= ?
				ORDER BY next_attempt_at, id LIMIT ?)
			RETURNING id`, now.UnixMilli(), now.UnixMilli(), limit)
		if err != nil {
			return err
		}
		var ids []any
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		q := `SELECT ` + outboxColumns + outboxFrom + ` WHERE o.id IN (?` +
			strings.Repeat(", ?", len(ids)-1) + `) ORDER BY o.next_attempt_at, o.id`
		rows, err = tx.QueryContext(ctx, q, ids...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEmail(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: claim due emails: %w", err)
	}
	return out, nil
}

// emailStateError reads the current state of email id to explain why a guarded update changed
// nothing: ErrNotFound when it does not exist, else ErrEmailState naming the state.
func emailStateError(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, id int64, want string) error {
	var state string
	err := q.QueryRowContext(ctx, `SELECT state FROM outbox WHERE id = ?`, id).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: it is %s, not %s", ErrEmailState, state, want)
}

// emailTransition runs one guarded UPDATE (which must end in "WHERE id = ? AND state = ?" and take
// id and from as its last two arguments) and, when it changed the row, then().
func (d *DB) emailTransition(ctx context.Context, what string, id int64, from string, q string, args []any, then func(*sql.Tx) error) error {
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, append(args, id, from)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return emailStateError(ctx, tx, id, from)
		}
		if then != nil {
			return then(tx)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("db: %s email %d: %w", what, id, err)
	}
	return nil
}

// emailAudit writes the system's audit entry for a final outcome of email id.
func emailAudit(ctx context.Context, tx *sql.Tx, id int64, action, outcome string) error {
	var inquiry, kind, recipient, messageID string
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(inquiry_id, ''), kind, recipient, message_id
		FROM outbox WHERE id = ?`, id).Scan(&inquiry, &kind, &recipient, &messageID)
	if err != nil {
		return err
	}
	target := inquiry
	if target == "" {
		target = recipient
	}
	return AddAudit(ctx, tx, AuditEntry{
		Actor:   "mail worker",
		Action:  action,
		Target:  target,
		Outcome: outcome,
		Detail:  fmt.Sprintf("%s email %d to %s, Message-ID %s", kind, id, recipient, messageID),
	})
}

// MarkEmailSent records that the server accepted email id (which must be 'sending') at at, and
// writes the system's "email.sent" audit entry in the same transaction. A staff email's body is
// dropped (StaffBodySent).
func (d *DB) MarkEmailSent(ctx context.Context, id int64, at time.Time) error {
	return d.emailTransition(ctx, "mark sent", id, EmailSending,
		`UPDATE outbox SET state = 'sent', sent_at = ?, last_error = '',
			body_text = CASE WHEN kind = 'staff' THEN ? ELSE body_text END,
			body_html = CASE WHEN kind = 'staff' THEN ? ELSE body_html END
		 WHERE id = ? AND state = ?`,
		[]any{at.UnixMilli(), StaffBodySent, StaffBodySent}, func(tx *sql.Tx) error { return emailAudit(ctx, tx, id, "email.sent", "ok") })
}

// StaffBodySent replaces a staff email's body once the server accepted it: its single-use link
// is then kept nowhere but in the person's mailbox (the database holds only the token's hash).
const StaffBodySent = "(Removed once sent: this email held a single-use link.)"

// MarkEmailRetry hands email id (which must be 'sending') back to the queue, due at nextAt, with
// the failure in words.
func (d *DB) MarkEmailRetry(ctx context.Context, id int64, nextAt time.Time, errText string) error {
	return d.emailTransition(ctx, "mark retry", id, EmailSending,
		`UPDATE outbox SET state = 'queued', next_attempt_at = ?, last_error = ? WHERE id = ? AND state = ?`,
		[]any{nextAt.UnixMilli(), errText}, nil)
}

// MarkEmailFailed gives up on email id (which must be 'sending') with the failure in words, and
// writes the system's "email.failed" audit entry in the same transaction.
func (d *DB) MarkEmailFailed(ctx context.Context, id int64, errText string) error {
	return d.emailTransition(ctx, "mark failed", id, EmailSending,
		`UPDATE outbox SET state = 'failed', last_error = ? WHERE id = ? AND state = ?`,
		[]any{errText}, func(tx *sql.Tx) error { return emailAudit(ctx, tx, id, "email.failed", errText) })
}

// ReleaseEmails hands claimed emails that were never attempted back to the queue without
// counting the attempt (a worker stopping with part of its batch unsent). Rows no longer in
// 'sending' are left alone.
func (d *DB) ReleaseEmails(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	_, err := d.W.ExecContext(ctx, `UPDATE outbox SET state = 'queued', attempts = MAX(attempts - 1, 0)
		WHERE state = 'sending' AND id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
	if err != nil {
		return fmt.Errorf("db: release %d claimed emails: %w", len(ids), err)
	}
	return nil
}

// RetryEmail puts failed email id back in the queue, due now, with a fresh count of attempts
// (a staff action), and writes the staff member's audit entry in the same transaction. Only a
// failed email can be retried (ErrEmailState).
func (d *DB) RetryEmail(ctx context.Context, id int64, audit AuditEntry) error {
	return d.emailTransition(ctx, "retry", id, EmailFailed,
		`UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_at = ?, claimed_at = NULL
		WHERE id = ? AND state = ?`,
		[]any{Now()}, func(tx *sql.Tx) error { return AddAudit(ctx, tx, audit) })
}

// CancelEmail cancels queued email id (a staff action) and writes the staff member's audit
// entry in the same transaction. An email already being sent, sent, failed or canceled cannot
// be canceled (ErrEmailState).
func (d *DB) CancelEmail(ctx context.Context, id int64, audit AuditEntry) error {
	return d.emailTransition(ctx, "cancel", id, EmailQueued,
		`UPDATE outbox SET state = 'canceled' WHERE id = ? AND state = ?`,
		nil, func(tx *sql.Tx) error { return AddAudit(ctx, tx, audit) })
}

// RecoveredNote is the last_error RecoverClaims leaves on the rows it hands back.
const RecoveredNote = "The console stopped while this email was being sent; sending it again."

// RecoverClaims hands every email left in 'sending' back to the queue, due now, and returns how
// many. Call it once when the (single) worker starts, before it claims anything: a row still in
// 'sending' then was claimed by a worker that stopped without recording an outcome, so the
// server's acceptance was never recorded. Either the server never accepted it (the usual case:
// the crash came before or during the transfer) and it must be sent, or the crash fell between
// the server's 250 reply and the MarkEmailSent write, the one window in which the recipient
// gets the email twice (with the same Message-ID, which lets mail systems that de-duplicate by
// it show one copy).
//
// The claim counted an attempt; a crash is not a failed delivery, so the count is taken back
// (like ReleaseEmails) and the row is due at once, with no backoff: an email is given up only
// after MaxAttempts real failures, however often the console was restarted.
func (d *DB) RecoverClaims(ctx context.Context) (int, error) {
	res, err := d.W.ExecContext(ctx, `UPDATE outbox SET state = 'queued', next_attempt_at = ?,
		attempts = MAX(attempts - 1, 0), last_error = ? WHERE state = 'sending'`, Now(), RecoveredNote)
	if err != nil {
		return 0, fmt.Errorf("db: recover claimed emails: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
