package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/persona"
)

// runSync brings the cache up to date with Persona once, as the console's reconciler does on
// its interval, printing its progress on one line.
func runSync(ctx context.Context, args []string, _ io.Reader, stdout io.Writer) error {
	fs := newFlags("sync", "Bring cached inquiries up to date with Persona once: those created since the last sync, those still open, and (with --full) every inquiry Persona has.")
	dbPath := dbFlag(fs)
	var st inquiry.Settings
	personaFlags(fs, &st)
	full := fs.Bool("full", false, "read every inquiry Persona has (100 per call), not only the recent and open ones")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := persona.CheckVersion(st.Version); err != nil {
		return fmt.Errorf("sync: --persona-version: %w", err)
	}
	st.APIKey = os.Getenv("LINKDESK_PERSONA_API_KEY")
	if st.APIKey == "" {
		return errors.New("sync: set LINKDESK_PERSONA_API_KEY to the Persona API key")
	}
	d, err := db.OpenExisting(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	settings, err := inquiry.LoadSettings(ctx, d, st)
	if err != nil {
		return err
	}
	inq := inquiry.New(d, settings, newLogger(io.Discard), inquiry.Deps{})
	start := time.Now()
	progress := func(done int) {
		fmt.Fprintf(stdout, "\rSynced %d inquiries (%s)", done, time.Since(start).Round(time.Second))
	}
	res, err := inq.Reconcile(ctx, *full, progress)
	fmt.Fprintln(stdout)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	fmt.Fprintf(stdout, "Done in %s: %d inquiries read in %d Persona calls, %d updated, %d found that were made elsewhere, %d fetched one by one, %d late webhook events applied.\n",
		res.Duration.Round(time.Millisecond), res.Seen, res.Calls, res.Changed, res.Discovered, res.Healed, res.Applied)
	return nil
}
