// Notes: the thread of staff remarks on an inquiry (migration 032). The casework package owns
// the rules; these are its statements.

package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Note is one remark on an inquiry.
type Note struct {
	ID        int64
	InquiryID string
	AuthorID  int64
	Author    string
	Body      string
	CreatedAt time.Time
	EditedAt  time.Time // zero when never edited
}

const noteCols = `id, inquiry_id, COALESCE(author_id, 0), author, body, created_at, edited_at`

func scanNote(row scanner) (Note, error) {
	var n Note
	var created int64
	var edited sql.NullInt64
	err := row.Scan(&n.ID, &n.InquiryID, &n.AuthorID, &n.Author, &n.Body, &created, &edited)
	n.CreatedAt, n.EditedAt = time.UnixMilli(created), fromMS(edited)
	return n, err
}

// Notes returns an inquiry's notes, oldest first.
func (d *DB) Notes(ctx context.Context, inquiryID string) ([]Note, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT `+noteCols+` FROM inquiry_notes WHERE inquiry_id = ? ORDER BY created_at, id`, inquiryID)
	if err != nil {
		return nil, fmt.Errorf("db: notes of %s: %w", inquiryID, err)
	}
	defer rows.Close()
	var out []Note
	for rows.Next() {
		n, err := scanNote(rows)
		if err != nil {
			return nil, fmt.Errorf("db: notes of %s: %w", inquiryID, err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// GetNote returns one note, or ErrNotFound.
func (d *DB) GetNote(ctx context.Context, id int64) (Note, error) {
	n, err := scanNote(d.R.QueryRowContext(ctx, `SELECT `+noteCols+` FROM inquiry_notes WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return n, ErrNotFound
	}
	if err != nil {
		return n, fmt.Errorf("db: note %d: %w", id, err)
	}
	return n, nil
}

// AddNote stores a note with its audit entry in one transaction and returns its id.
func (d *DB) AddNote(ctx context.Context, n Note, audit AuditEntry) (int64, error) {
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO inquiry_notes (inquiry_id, author_id, author, body, created_at) VALUES (?, ?, ?, ?, ?)`,
			n.InquiryID, nullID(n.AuthorID), n.Author, n.Body, n.CreatedAt.UnixMilli())
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		return AddAudit(ctx, tx, audit)
	})
	if err != nil {
		return 0, fmt.Errorf("db: add note to %s: %w", n.InquiryID, err)
	}
	return id, nil
}

// EditNote replaces a note's text with its audit entry in one transaction.
func (d *DB) EditNote(ctx context.Context, id int64, body string, at time.Time, audit AuditEntry) error {
	return d.noteTx(ctx, id, audit, `UPDATE inquiry_notes SET body = ?, edited_at = ? WHERE id = ?`, body, at.UnixMilli(), id)
}

// DeleteNote removes a note with its audit entry in one transaction.
func (d *DB) DeleteNote(ctx context.Context, id int64, audit AuditEntry) error {
	return d.noteTx(ctx, id, audit, `DELETE FROM inquiry_notes WHERE id = ?`, id)
}

func (d *DB) noteTx(ctx context.Context, id int64, audit AuditEntry, stmt string, args ...any) error {
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, stmt, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return AddAudit(ctx, tx, audit)
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("db: note %d: %w", id, err)
	}
	return err
}
