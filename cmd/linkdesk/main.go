// Command linkdesk is the Linkdesk console: a self-hosted staff console for Persona identity
// verification. Run `linkdesk help` for the subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const usage = `linkdesk: a staff console for Persona identity verification

Usage:
  linkdesk serve        start the console (--dev adds the built-in Persona sandbox and mail catcher)
  linkdesk user add     add a staff account
  linkdesk migrate      apply database migrations and exit
  linkdesk backup       write a consistent copy of the database
  linkdesk restore      restore the database from a replica (serve --replicate-to)
  linkdesk sandbox      run the built-in Persona sandbox on its own
  linkdesk mailcatcher  run the built-in SMTP mail catcher on its own
  linkdesk sync         bring cached inquiries up to date with Persona once
  linkdesk bulk         create and hand out inquiries for every row of a CSV file

Every flag can also be set with a LINKDESK_* environment variable; run 'linkdesk <command> -h'.
Secrets are read from the environment only, never from flags (process listings show flags):
  LINKDESK_PERSONA_API_KEY, LINKDESK_PERSONA_WEBHOOK_SECRETS (comma-separated, several while
  rotating), LINKDESK_SMTP_URL (with its password), LINKDESK_SESSION_KEYS (comma-separated hex).
`

type command struct {
	run func(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":       {runServe},
		"user":        {runUser},
		"migrate":     {runMigrate},
		"backup":      {runBackup},
		"restore":     {runRestore},
		"sandbox":     {runSandbox},
		"mailcatcher": {runMailcatcher},
		"sync":        {runSync},
		"bulk":        {runBulk},
	}
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "help" || os.Args[1] == "-h" || os.Args[1] == "--help" {
		fmt.Print(usage)
		return
	}
	cmd, ok := commands()[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "linkdesk: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, os.Args[2:], os.Stdin, os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "linkdesk:", err)
		os.Exit(1)
	}
}

// env returns the LINKDESK_* variable or def, so flags default to the environment.
func env(name, def string) string {
	if v, ok := os.LookupEnv("LINKDESK_" + name); ok {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv("LINKDESK_" + name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

func envInt(name string, def int) int {
	if v, ok := os.LookupEnv("LINKDESK_" + name); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func envBool(name string, def bool) bool {
	switch strings.ToLower(os.Getenv("LINKDESK_" + name)) {
	case "1", "true", "yes", "on":
		return true
	case "0", "false", "no", "off":
		return false
	}
	return def
}

func newFlags(name, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet("linkdesk "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: linkdesk %s [flags]\n\n%s\n\nFlags (each also from the LINKDESK_* variable named in brackets):\n", name, summary)
		fs.PrintDefaults()
	}
	return fs
}

func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", env("DB", "linkdesk.db"), "SQLite database file [LINKDESK_DB]")
}

func newLogger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if envBool("DEBUG", false) {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
