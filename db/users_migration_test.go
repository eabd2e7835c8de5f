package db

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// A database from before migrations 020 and 021 keeps its staff, accepts the reviewer role
// (and still refuses an unknown one), and drops its sessions, whose rows held bare ids.
func TestReviewerAndHashedSessionsMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	w, err := sql.Open("sqlite", dsn(path, false, DefaultOptions))
	if err != nil {
		t.Fatal(err)
	}
	old := &DB{W: w}
	if err := old.migrate(ctx, 17); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExecContext(ctx, `INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at) VALUES (1, 'ada@example.com', 'Ada', 'agent', 'x', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExecContext(ctx, `INSERT INTO users (email, name, role, password_hash, created_at, updated_at) VALUES ('rae@example.com', 'Rae', 'reviewer', 'x', 1, 1)`); err == nil {
		t.Fatal("the old schema took the reviewer role: the test does not test the migration")
	}
	if _, err := w.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, last_seen_at) VALUES ('bare-id', 1, 1, 1)`); err != nil {
		t.Fatal(err)
	}
	w.Close()

	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if u, err := d.UserByEmail(ctx, "ada@example.com"); err != nil || u.Role != RoleAgent || u.TwoStepEnabled() {
		t.Fatalf("the old account: %+v %v", u, err)
	}
	if _, err := d.CreateUser(ctx, User{Email: "rae@example.com", Name: "Rae", Role: RoleReviewer, PasswordHash: "x"}); err != nil {
		t.Fatalf("a reviewer after the migration: %v", err)
	}
	if _, err := d.CreateUser(ctx, User{Email: "bo@example.com", Name: "Bo", Role: "boss", PasswordHash: "x"}); err == nil {
		t.Fatal("an unknown role was accepted")
	}
	var n int
	d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions`).Scan(&n)
	if n != 0 {
		t.Errorf("%d sessions with bare ids kept, want none", n)
	}
	var check string
	d.R.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check)
	if check != "ok" {
		t.Errorf("integrity check: %s", check)
	}
}
