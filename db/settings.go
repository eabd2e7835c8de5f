package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Setting returns the value stored under key, or ErrNotFound.
func (d *DB) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := d.R.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("db: setting %s: %w", key, err)
	}
	return v, nil
}

// Settings returns every stored setting.
func (d *DB) Settings(ctx context.Context) (map[string]string, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT key, value FROM settings`)
	if err != nil {
		return nil, fmt.Errorf("db: settings: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("db: settings: %w", err)
		}
		out[k] = v
	}
	return out, rows.Err()
}

// SetSettings stores values and, when audit.Action is set, the audit entry, in one transaction.
func (d *DB) SetSettings(ctx context.Context, values map[string]string, audit AuditEntry) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		for k, v := range values {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v); err != nil {
				return fmt.Errorf("db: set setting %s: %w", k, err)
			}
		}
		if audit.Action == "" {
			return nil
		}
		return AddAudit(ctx, tx, audit)
	})
}

// SettingOrInit returns key's value, storing init() first if it has none; for values that
// must be generated once and then kept (session keys, the setup token).
func (d *DB) SettingOrInit(ctx context.Context, key string, init func() (string, error)) (string, error) {
	v, err := d.Setting(ctx, key)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return "", err
	}
	nv, err := init()
	if err != nil {
		return "", err
	}
	if _, err := d.W.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, nv); err != nil {
		return "", fmt.Errorf("db: init setting %s: %w", key, err)
	}
	return d.Setting(ctx, key)
}

// RemoveSetting removes key as part of tx.
func RemoveSetting(ctx context.Context, tx *sql.Tx, key string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM settings WHERE key = ?`, key); err != nil {
		return fmt.Errorf("db: delete setting %s: %w", key, err)
	}
	return nil
}
