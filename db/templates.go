// Inquiry templates known to the console.

package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Template is a known Persona inquiry template.
type Template struct {
	ID           string
	Name         string
	IsDefault    bool
	ReminderDays string
}

// Templates lists the known templates, the default first.
func (d *DB) Templates(ctx context.Context) ([]Template, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT id, name, is_default, reminder_days FROM templates ORDER BY is_default DESC, name COLLATE NOCASE`)
	if err != nil {
		return nil, fmt.Errorf("db: templates: %w", err)
	}
	defer rows.Close()
	var out []Template
	for rows.Next() {
		var t Template
		if err := rows.Scan(&t.ID, &t.Name, &t.IsDefault, &t.ReminderDays); err != nil {
			return nil, fmt.Errorf("db: templates: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// GetTemplate returns one template.
func (d *DB) GetTemplate(ctx context.Context, id string) (*Template, error) {
	var t Template
	err := d.R.QueryRowContext(ctx, `SELECT id, name, is_default, reminder_days FROM templates WHERE id = ?`, id).Scan(&t.ID, &t.Name, &t.IsDefault, &t.ReminderDays)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("db: template: %w", err)
	}
	return &t, nil
}

// SaveTemplate adds or renames a template; making it the default clears the others'.
func (d *DB) SaveTemplate(ctx context.Context, t Template, audit AuditEntry) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if t.IsDefault {
			if _, err := tx.ExecContext(ctx, `UPDATE templates SET is_default = 0`); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO templates (id, name, is_default, reminder_days, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, is_default = excluded.is_default, reminder_days = excluded.reminder_days`,
			t.ID, strings.TrimSpace(t.Name), t.IsDefault, t.ReminderDays, Now())
		if err != nil {
			return fmt.Errorf("db: save template: %w", err)
		}
		if audit.Action == "" {
			return nil
		}
		return AddAudit(ctx, tx, audit)
	})
}

// DeleteTemplate forgets a template (inquiries keep its id).
func (d *DB) DeleteTemplate(ctx context.Context, id string, audit AuditEntry) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM templates WHERE id = ?`, id); err != nil {
			return fmt.Errorf("db: delete template: %w", err)
		}
		return AddAudit(ctx, tx, audit)
	})
}
