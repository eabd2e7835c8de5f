package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/bulk"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
)

// runBulk is bulk send for scripts: the same engine as the Bulk send page. It checks the file,
// prints the summary, and (unless --dry-run) runs the job to the end with a progress line, then
// writes the results CSV. The job is durable: interrupted, it is continued by --resume or by a
// console running on the same database.
func runBulk(ctx context.Context, args []string, _ io.Reader, stdout io.Writer) error {
	fs := newFlags("bulk", "Create and hand out inquiries for every row of a CSV file, paced to Persona's rate limit.")
	dbPath := dbFlag(fs)
	var st inquiry.Settings
	personaFlags(fs, &st)
	file := fs.String("file", "", "the CSV file (UTF-8, comma or semicolon, header row naming the columns)")
	tmpl := fs.String("template", "", "the inquiry template (itmpl_...)")
	email := fs.Bool("email", false, "email each person their link (through the outbox; a running console delivers it)")
	anyway := fs.Bool("create-anyway", false, "create although the person is already verified or in review")
	differing := fs.String("differing", bulk.ChoiceSkip, "a row whose name, email or birthdate differs from its open inquiry: skip, on-file (send that inquiry's link to its own address) or new (create an inquiry from the row)")
	dryRun := fs.Bool("dry-run", false, "check the file and print what would happen; send nothing")
	resume := fs.Int64("resume", 0, "continue the bulk job with this id instead of starting one")
	results := fs.String("results", "", "where to write the results CSV (default: <file>-results.csv)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if bulk.ChoiceWords[*differing] == "" {
		return fmt.Errorf("bulk: --differing %q: use skip, on-file or new", *differing)
	}
	if *file == "" && *resume == 0 {
		return errors.New("bulk: --file is required (or --resume with a job's id)")
	}
	st.APIKey = os.Getenv("LINKDESK_PERSONA_API_KEY")
	if st.APIKey == "" {
		return errors.New("bulk: set LINKDESK_PERSONA_API_KEY to the Persona API key")
	}
	if err := persona.CheckVersion(st.Version); err != nil {
		return fmt.Errorf("bulk: --persona-version: %w", err)
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
	inq := inquiry.New(d, settings, newLogger(io.Discard), inquiry.Deps{}) // emails wait in the outbox for a console's worker
	eng := bulk.New(d, inq, newLogger(io.Discard))
	a := model.Actor{Name: "linkdesk bulk"}

	id := *resume
	if id == 0 {
		f, err := os.Open(*file)
		if err != nil {
			return fmt.Errorf("bulk: %w", err)
		}
		parsed, err := bulk.Parse(f, nil)
		f.Close()
		if err == nil && !parsed.Known() {
			err = bulk.ErrNoKnownColumn(parsed.Headers) // no mapping step here: the header must say
		}
		if err != nil {
			return fmt.Errorf("bulk: %s: %w", *file, err)
		}
		if len(parsed.Unknown) > 0 {
			fmt.Fprintf(stdout, "Columns not used (not recognised): %s\n", strings.Join(parsed.Unknown, ", "))
		}
		o := bulk.Options{TemplateID: *tmpl, Email: *email, CreateAnyway: *anyway, ChoiceAll: *differing}
		c, err := eng.Check(ctx, parsed, o)
		if err != nil {
			return fmt.Errorf("bulk: %w", err)
		}
		fmt.Fprintf(stdout, "%s: %s.\n", filepath.Base(*file), c.Summary())
		for _, r := range c.Problems() {
			fmt.Fprintf(stdout, "  line %d %s: %s\n", r.Line, r.Input.ReferenceID, r.Problem)
		}
		if *dryRun {
			fmt.Fprintln(stdout, "Dry run: nothing was sent.")
			return nil
		}
		if id, err = eng.Start(ctx, a, filepath.Base(*file), o, c); err != nil {
			return fmt.Errorf("bulk: %w", err)
		}
		fmt.Fprintf(stdout, "Started bulk job %d.\n", id)
	} else if _, err := eng.Resume(ctx, a, id); err != nil {
		return fmt.Errorf("bulk: %w", err)
	}

	// A console (or another `linkdesk bulk`) working on this database carries the job within its
	// own rate budget; this command's worker waits while it does and shows the progress.
	if other, err := eng.Working(ctx); err != nil {
		return fmt.Errorf("bulk: %w", err)
	} else if other != "" {
		fmt.Fprintf(stdout, "A console (or another linkdesk bulk) is working through this database's bulk jobs: it carries job %d, within its rate budget. Following its progress.\n", id)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { eng.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var p *bulk.Progress
	for {
		if p, err = eng.Progress(ctx, id); err != nil {
			return fmt.Errorf("bulk: %w", err)
		}
		left := ""
		if p.Left > 0 {
			left = ", about " + p.Left.Round(time.Second).String() + " left"
		}
		fmt.Fprintf(stdout, "\r%d of %d rows done, %d failed%s   ", p.Done, p.Job.Total, p.Failed, left)
		if p.Finished {
			break
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(stdout, "\nInterrupted: job %d keeps its place. Continue it with 'linkdesk bulk --resume %d' (a console on this database continues it too).\n", id, id)
			return nil
		case <-tick.C:
		}
	}
	fmt.Fprintln(stdout)
	out := *results
	if out == "" {
		base := p.Job.Name
		if *file != "" {
			base = *file
		}
		out = strings.TrimSuffix(base, filepath.Ext(base)) + "-results.csv"
	}
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("bulk: results: %w", err)
	}
	if err := eng.WriteResults(ctx, f, id); err != nil {
		f.Close()
		return fmt.Errorf("bulk: results: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bulk: results: %w", err)
	}
	var parts []string
	for _, s := range []string{bulk.Created, bulk.Reused, bulk.Resumed, bulk.Skipped, bulk.Failed, bulk.Cancelled} {
		if n := p.Counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	fmt.Fprintf(stdout, "Done: %s. Results in %s.\n", strings.Join(parts, ", "), out)
	if p.Job.Email {
		fmt.Fprintln(stdout, "Emails wait in the outbox until the console's mail worker sends them.")
	}
	return nil
}
