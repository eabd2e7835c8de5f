// Assignment: who works on an inquiry (migration 033). The casework package owns the rules.

package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Assignment is who an inquiry is assigned to.
type Assignment struct {
	InquiryID  string
	UserID     int64
	UserName   string
	AssignedBy int64
	AssignedAt time.Time
}

// AssignmentOf returns the inquiry's assignment, or ErrNotFound when nobody has it.
func (d *DB) AssignmentOf(ctx context.Context, inquiryID string) (Assignment, error) {
	var a Assignment
	var at int64
	err := d.R.QueryRowContext(ctx, `SELECT a.inquiry_id, a.user_id, u.name, COALESCE(a.assigned_by, 0), a.assigned_at
		FROM assignments a JOIN users u ON u.id = a.user_id WHERE a.inquiry_id = ?`, inquiryID).
		Scan(&a.InquiryID, &a.UserID, &a.UserName, &a.AssignedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("db: assignment of %s: %w", inquiryID, err)
	}
	a.AssignedAt = time.UnixMilli(at)
	return a, nil
}

// RowCase is what the list shows of an inquiry's case besides its cached row.
type RowCase struct {
	Assignee string // "" when nobody has it
	Tags     []string
}

// RowCases returns the assignee and tags of each of the given inquiries (one read for a page).
func (d *DB) RowCases(ctx context.Context, inquiryIDs []string) (map[string]RowCase, error) {
	out := map[string]RowCase{}
	if len(inquiryIDs) == 0 {
		return out, nil
	}
	ids, _ := json.Marshal(inquiryIDs)
	rows, err := d.R.QueryContext(ctx, `SELECT i.id, COALESCE(u.name, ''), i.tags FROM inquiries i
		LEFT JOIN assignments a ON a.inquiry_id = i.id LEFT JOIN users u ON u.id = a.user_id
		WHERE i.id IN (SELECT value FROM json_each(?))`, string(ids))
	if err != nil {
		return nil, fmt.Errorf("db: row cases: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, tags string
		var c RowCase
		if err := rows.Scan(&id, &c.Assignee, &tags); err != nil {
			return nil, fmt.Errorf("db: row cases: %w", err)
		}
		json.Unmarshal([]byte(tags), &c.Tags)
		out[id] = c
	}
	return out, rows.Err()
}

// AssignedCount counts the inquiries assigned to a staff member.
func (d *DB) AssignedCount(ctx context.Context, userID int64) (int, error) {
	var n int
	if err := d.readRow(ctx, []any{&n}, `SELECT count(*) FROM assignments WHERE user_id = ?`, userID); err != nil {
		return 0, fmt.Errorf("db: assigned count: %w", err)
	}
	return n, nil
}

// SetAssignment assigns the inquiry to userID (0: to nobody) with its audit entry in one
// transaction. It reports the previous assignee (0 for none) and whether anything changed.
func (d *DB) SetAssignment(ctx context.Context, inquiryID string, userID, by int64, at time.Time, audit func(prev int64) AuditEntry) (prev int64, changed bool, err error) {
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM assignments WHERE inquiry_id = ?`, inquiryID).Scan(&prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if prev == userID {
			return nil
		}
		if userID == 0 {
			_, err = tx.ExecContext(ctx, `DELETE FROM assignments WHERE inquiry_id = ?`, inquiryID)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO assignments (inquiry_id, user_id, assigned_by, assigned_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (inquiry_id) DO UPDATE SET user_id = excluded.user_id, assigned_by = excluded.assigned_by,
				assigned_at = excluded.assigned_at`, inquiryID, userID, nullID(by), at.UnixMilli())
		}
		if err != nil {
			return err
		}
		changed = true
		return AddAudit(ctx, tx, audit(prev))
	})
	if err != nil {
		return 0, false, fmt.Errorf("db: assign %s: %w", inquiryID, err)
	}
	return prev, changed, nil
}

// AssignEmail reports whether the staff member asked to be emailed when an inquiry is
// assigned to them.
func (d *DB) AssignEmail(ctx context.Context, userID int64) (bool, error) {
	var on bool
	err := d.R.QueryRowContext(ctx, `SELECT assign_email FROM user_prefs WHERE user_id = ?`, userID).Scan(&on)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("db: preferences of %d: %w", userID, err)
	}
	return on, nil
}

// SetAssignEmail stores the preference with its audit entry in one transaction.
func (d *DB) SetAssignEmail(ctx context.Context, userID int64, on bool, audit AuditEntry) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_prefs (user_id, assign_email) VALUES (?, ?)
			ON CONFLICT (user_id) DO UPDATE SET assign_email = excluded.assign_email`, userID, on); err != nil {
			return fmt.Errorf("db: preferences of %d: %w", userID, err)
		}
		return AddAudit(ctx, tx, audit)
	})
}
