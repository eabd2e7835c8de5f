// Saved views of the inquiry list (migration 034). The casework package owns the rules.

package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SavedView is a named list query.
type SavedView struct {
	ID        int64
	OwnerID   int64
	OwnerName string
	Name      string
	Query     string
	Shared    bool
	CreatedAt time.Time
}

const savedViewCols = `v.id, v.owner_id, COALESCE(u.name, ''), v.name, v.query, v.shared, v.created_at`

func scanSavedView(row scanner) (SavedView, error) {
	var v SavedView
	var at int64
	err := row.Scan(&v.ID, &v.OwnerID, &v.OwnerName, &v.Name, &v.Query, &v.Shared, &at)
	v.CreatedAt = time.UnixMilli(at)
	return v, err
}

// SavedViews returns the views a staff member sees: their own and those shared by others,
// by name.
func (d *DB) SavedViews(ctx context.Context, userID int64) ([]SavedView, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT `+savedViewCols+` FROM saved_views v LEFT JOIN users u ON u.id = v.owner_id
		WHERE v.owner_id = ? OR v.shared = 1 ORDER BY v.name COLLATE NOCASE, v.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("db: saved views: %w", err)
	}
	defer rows.Close()
	var out []SavedView
	for rows.Next() {
		v, err := scanSavedView(rows)
		if err != nil {
			return nil, fmt.Errorf("db: saved views: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// GetSavedView returns one view, or ErrNotFound.
func (d *DB) GetSavedView(ctx context.Context, id int64) (SavedView, error) {
	v, err := scanSavedView(d.R.QueryRowContext(ctx, `SELECT `+savedViewCols+` FROM saved_views v LEFT JOIN users u ON u.id = v.owner_id WHERE v.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("db: saved view %d: %w", id, err)
	}
	return v, nil
}

// SaveView stores a view, replacing the owner's view of the same name, with its audit entry
// in one transaction.
func (d *DB) SaveView(ctx context.Context, v SavedView, audit AuditEntry) (int64, error) {
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO saved_views (owner_id, name, query, shared, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (owner_id, name) DO UPDATE SET query = excluded.query, shared = excluded.shared RETURNING id`,
			v.OwnerID, v.Name, v.Query, v.Shared, v.CreatedAt.UnixMilli()).Scan(&id)
		if err != nil {
			return err
		}
		return AddAudit(ctx, tx, audit)
	})
	if err != nil {
		return 0, fmt.Errorf("db: save view %q: %w", v.Name, err)
	}
	return id, nil
}

// DeleteView removes a view with its audit entry in one transaction.
func (d *DB) DeleteView(ctx context.Context, id int64, audit AuditEntry) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM saved_views WHERE id = ?`, id); err != nil {
			return fmt.Errorf("db: delete view %d: %w", id, err)
		}
		return AddAudit(ctx, tx, audit)
	})
}
