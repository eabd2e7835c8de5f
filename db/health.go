package db

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// Writable checks that a write transaction can start and commit (the file and its folder are
// writable and no other process holds the write lock for longer than the busy timeout).
func (d *DB) Writable(ctx context.Context) error {
	if err := d.Tx(ctx, func(*sql.Tx) error { return nil }); err != nil {
		return fmt.Errorf("db: not writable: %w", err)
	}
	return nil
}

// SchemaCurrent checks that every embedded migration has been applied.
func (d *DB) SchemaCurrent(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("db: list migrations: %w", err)
	}
	latest := 0
	for _, n := range names {
		v, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(n, "migrations/"), "_", 2)[0])
		latest = max(latest, v)
	}
	var current int
	if err := d.R.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("db: read schema version: %w", err)
	}
	if current < latest {
		return fmt.Errorf("db: schema version %d, migrations up to %d not applied", current, latest)
	}
	return nil
}

// BulkRowStates counts bulk-send rows of every job by state (pending, created, failed, ...).
func (d *DB) BulkRowStates(ctx context.Context) (map[string]int, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT state, COUNT(*) FROM bulk_rows GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("db: count bulk rows: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("db: count bulk rows: %w", err)
		}
		out[s] = n
	}
	return out, rows.Err()
}
