package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/staff"
)

// The database, its WAL and every backup hold password hashes and the sessions: only their
// owner may read them, whatever the umask (they were 0644).
func TestDatabaseAndBackupsOwnerOnly(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o022))
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "l.db")
	var out bytes.Buffer
	if err := runMigrate(ctx, []string{"--db", dbPath}, nil, &out); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	keys, err := staff.New(d).CookieKeys(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = runUser(ctx, []string{"add", "--db", dbPath, "--email", "ada@example.com", "--name", "Ada", "--role", "admin", "--password-stdin"},
		strings.NewReader("a long enough password\n"), &out)
	if err != nil {
		t.Fatal(err)
	}
	_, sid, err := staff.New(d).SignIn(ctx, "ada@example.com", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "copy.db")
	if err := runBackup(ctx, []string{"--db", dbPath, "--to", backup}, nil, &out); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dbPath, dbPath + "-wal", dbPath + "-shm", backup} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %o, want 600", filepath.Base(p), m)
		}
	}
	// The backup holds no cookie key and no session: a cookie minted from it opens nothing.
	raw, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if len(k) > 0 && (bytes.Contains(raw, k) || strings.Contains(string(raw), fmtHex(k))) {
			t.Errorf("the backup holds a cookie key")
		}
	}
	if strings.Contains(string(raw), sid) {
		t.Errorf("the backup holds a live session id")
	}
	b, err := db.Open(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if u, err := b.UserByEmail(ctx, "ada@example.com"); err != nil || u.Name != "Ada" {
		t.Errorf("the backup lacks the staff: %v %v", u, err)
	}
}

func fmtHex(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}

// A mistyped --db is refused by every command but serve and migrate; it used to become an empty
// database and backup reported success.
func TestCommandsRefuseAMissingDatabase(t *testing.T) {
	t.Setenv("LINKDESK_PERSONA_API_KEY", "persona_sandbox_test")
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, "mistyped.db")
	for name, run := range map[string]func() error{
		"backup": func() error {
			return runBackup(ctx, []string{"--db", missing, "--to", filepath.Join(dir, "copy.db")}, nil, &bytes.Buffer{})
		},
		"sync": func() error { return runSync(ctx, []string{"--db", missing}, nil, &bytes.Buffer{}) },
		"bulk": func() error {
			csv := filepath.Join(dir, "people.csv")
			os.WriteFile(csv, []byte("reference_id\nusr_1\n"), 0o600)
			return runBulk(ctx, []string{"--db", missing, "--file", csv, "--template", "itmpl_x", "--dry-run"}, nil, &bytes.Buffer{})
		},
		"user add": func() error {
			return runUser(ctx, []string{"add", "--db", missing, "--email", "ada@example.com", "--name", "Ada", "--password-stdin"},
				strings.NewReader("a long enough password\n"), &bytes.Buffer{})
		},
	} {
		err := run()
		if err == nil || !strings.Contains(err.Error(), "no database at "+missing) {
			t.Errorf("%s: %v, want the missing database named", name, err)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Fatalf("%s created %s", name, missing)
		}
	}
}
