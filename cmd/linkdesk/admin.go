package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/staff"
)

func runMigrate(ctx context.Context, args []string, _ io.Reader, stdout io.Writer) error {
	fs := newFlags("migrate", "Apply the database migrations and exit.")
	dbPath := dbFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := db.Open(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Fprintf(stdout, "%s is up to date.\n", *dbPath)
	return nil
}

func runBackup(ctx context.Context, args []string, _ io.Reader, stdout io.Writer) error {
	fs := newFlags("backup", "Write a consistent copy of the database (VACUUM INTO); safe while the console runs.")
	dbPath := dbFlag(fs)
	to := fs.String("to", "", "file to write; must not exist yet (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" {
		return errors.New("backup: --to FILE is required")
	}
	d, err := db.OpenExisting(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Backup(ctx, *to); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Backed up %s to %s.\n", *dbPath, *to)
	return nil
}

func runUser(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New("user: the only subcommand is 'add'; see 'linkdesk user add -h'")
	}
	fs := newFlags("user add", "Add a staff account. The password is read from standard input.")
	dbPath := dbFlag(fs)
	email := fs.String("email", "", "email address (required)")
	name := fs.String("name", "", "full name (required)")
	role := fs.String("role", "agent", "admin, reviewer, agent or viewer")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (required)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if !*pwStdin {
		return errors.New("user add: pass --password-stdin and the password on standard input, so it stays out of shell history")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("user add: read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if *name == "" || inquiry.ValidRecipient(*email) != nil {
		return errors.New("user add: --name and a valid --email are required")
	}
	r, ok := model.ParseRole(*role)
	if !ok {
		return errors.New("user add: --role must be admin, reviewer, agent or viewer")
	}
	// AddUser checks it too; checked here first so a weak password is refused before the database opens.
	if err := staff.CheckPasswordRules(pw); err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	d, err := db.OpenExisting(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := staff.New(d).AddUser(ctx, model.Actor{Name: "command line"}, staff.NewUser{Name: *name, Email: *email, Role: r, Password: pw}); err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	fmt.Fprintf(stdout, "Added %s <%s> as %s.\n", *name, *email, *role)
	return nil
}
