package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"golang.org/x/crypto/bcrypt"
)

func TestUserAddMigrateBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "l.db")
	var out bytes.Buffer
	if err := runMigrate(ctx, []string{"--db", dbPath}, nil, &out); err != nil {
		t.Fatal(err)
	}
	err := runUser(ctx, []string{"add", "--db", dbPath, "--email", "ada@example.com", "--name", "Ada", "--role", "admin", "--password-stdin"},
		strings.NewReader("a long enough password\n"), &out)
	if err != nil || !strings.Contains(out.String(), "Added Ada <ada@example.com> as admin.") {
		t.Fatalf("user add: %v %q", err, out.String())
	}
	err = runUser(ctx, []string{"add", "--db", dbPath, "--email", "rae@example.com", "--name", "Rae", "--role", "reviewer", "--password-stdin"},
		strings.NewReader("a long enough password\n"), &out)
	if err != nil || !strings.Contains(out.String(), "Added Rae <rae@example.com> as reviewer.") {
		t.Fatalf("user add --role reviewer: %v %q", err, out.String())
	}
	for name, args := range map[string][]string{
		"short password": {"add", "--db", dbPath, "--email", "bo@example.com", "--name", "Bo", "--password-stdin"},
		"common":         {"add", "--db", dbPath, "--email", "bo@example.com", "--name", "Bo", "--password-stdin"},
		"bad role":       {"add", "--db", dbPath, "--email", "bo@example.com", "--name", "Bo", "--role", "boss", "--password-stdin"},
		"no stdin flag":  {"add", "--db", dbPath, "--email", "bo@example.com", "--name", "Bo"},
		"same email":     {"add", "--db", dbPath, "--email", "ADA@example.com", "--name", "Ada 2", "--password-stdin"},
	} {
		pw := "a long enough password\n"
		switch name {
		case "short password":
			pw = "short\n"
		case "common":
			pw = "Password2024!\n"
		}
		if err := runUser(ctx, args, strings.NewReader(pw), &out); err == nil {
			t.Errorf("%s: no error", name)
		}
	}

	backup := filepath.Join(dir, "copy.db")
	if err := runBackup(ctx, []string{"--db", dbPath, "--to", backup}, nil, &out); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	u, err := d.UserByEmail(ctx, "ada@example.com")
	if err != nil || u.Role != db.RoleAdmin || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("a long enough password")) != nil {
		t.Fatalf("the backup lacks the admin: %+v %v", u, err)
	}
	if err := runBackup(ctx, []string{"--db", dbPath}, nil, &out); err == nil {
		t.Error("backup without --to: no error")
	}
}

func TestHelpOnEverySubcommand(t *testing.T) {
	for name, c := range commands() {
		args := []string{"-h"}
		if name == "user" {
			args = []string{"add", "-h"}
		}
		err := c.run(context.Background(), args, strings.NewReader(""), &bytes.Buffer{})
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("linkdesk %s -h: %v, want the help", name, err)
		}
	}
}

// TestUserAddAuditedOrNotAdded: the command line adds an account and its audit entry together,
// so an audit log that refuses entries leaves no unaudited account behind.
func TestUserAddAuditedOrNotAdded(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "l.db")
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.W.ExecContext(ctx, `CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log refused'); END`); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = runUser(ctx, []string{"add", "--db", dbPath, "--email", "ada@example.com", "--name", "Ada", "--password-stdin"}, strings.NewReader("a long enough password\n"), &out)
	if err == nil || !strings.Contains(err.Error(), "audit log refused") {
		t.Errorf("user add with the audit log refusing: err %v, output %q; want the refusal", err, out.String())
	}
	if n, _ := d.UserCount(ctx); n != 0 {
		t.Errorf("%d accounts added without their audit entry", n)
	}
}
