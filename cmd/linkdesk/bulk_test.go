package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/bulk"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/internal/testkit"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

func TestBulkCommand(t *testing.T) {
	sb := sandbox.New(sandbox.Options{})
	ts := httptest.NewServer(sb)
	t.Cleanup(func() { ts.Close(); sb.Close() })
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "l.db")
	d, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := inquiry.New(d, inquiry.Settings{}, slog.New(slog.NewTextHandler(io.Discard, nil)), inquiry.Deps{}).RegisterTemplates(context.Background(), []db.Template{{ID: sandbox.TemplateKYC, Name: "KYC"}}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	file := filepath.Join(dir, "people.csv")
	os.WriteFile(file, []byte("reference_id;first_name;email\nusr_1;Zoë;zoe@example.com\nusr_2;Jo;jo@\nusr_3;Al;al@example.com\n"), 0o600)
	t.Setenv("LINKDESK_PERSONA_API_KEY", sandbox.DefaultAPIKey)
	args := []string{"--db", dbPath, "--persona-api-url", ts.URL + "/api/v1", "--file", file, "--template", sandbox.TemplateKYC}

	var out bytes.Buffer
	if err := runBulk(context.Background(), append(args, "--dry-run"), nil, &out); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "people.csv: 2 ready, 1 invalid.") || !strings.Contains(s, "line 3 usr_2: Email:") || !strings.Contains(s, "nothing was sent") {
		t.Errorf("dry run printed:\n%s", s)
	}
	if n := sb.Stats().InquiriesCreated; n != 0 {
		t.Fatalf("the dry run created %d inquiries", n)
	}

	out.Reset()
	if err := runBulk(context.Background(), args, nil, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if s := out.String(); !strings.Contains(s, "3 of 3 rows done, 1 failed") || !strings.Contains(s, "Done: 2 created, 1 failed.") {
		t.Errorf("run printed:\n%s", s)
	}
	if n := sb.Stats().InquiriesCreated; n != 2 {
		t.Errorf("created %d inquiries, want 2", n)
	}
	b, err := os.ReadFile(filepath.Join(dir, "people-results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) != 4 || recs[1][3] != "created" || !strings.HasPrefix(recs[1][5], "inq_") || recs[2][3] != "failed" {
		t.Errorf("results %v: %q", err, recs)
	}
	// The command has no mapping step: a header of unknown names only is refused in words.
	os.WriteFile(file, []byte("Kundennummer,Courriel\nK-7,k7@example.com\n"), 0o600)
	if err := runBulk(context.Background(), append(args, "--dry-run"), nil, &out); err == nil || !strings.Contains(err.Error(), "no column of the header row (Kundennummer, Courriel)") {
		t.Errorf("unknown headers only: %v", err)
	}
}

// The console and `linkdesk bulk --resume` on one job each spent the whole rate budget (3 ×
// 429, creates delayed 7.6 s): while a console's worker runs on the database, the command
// leaves the job to it and follows its progress. Each process here talks to a Persona of its
// own, so the sandbox that answered says which process worked.
func TestBulkCommandLeavesJobToRunningConsole(t *testing.T) {
	ctx := context.Background()
	consoleSB, cliSB := sandbox.New(sandbox.Options{}), sandbox.New(sandbox.Options{})
	consoleTS, cliTS := httptest.NewServer(consoleSB), httptest.NewServer(cliSB)
	t.Cleanup(func() { consoleTS.Close(); consoleSB.Close(); cliTS.Close(); cliSB.Close() })
	dbPath := filepath.Join(t.TempDir(), "l.db")
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	inq := inquiry.New(d, inquiry.Settings{APIKey: sandbox.DefaultAPIKey, APIBaseURL: consoleTS.URL + "/api/v1", RequireReference: true}, log, inquiry.Deps{})
	if err := inq.RegisterTemplates(ctx, []db.Template{{ID: sandbox.TemplateKYC, Name: "KYC"}}); err != nil {
		t.Fatal(err)
	}
	var csvText strings.Builder
	csvText.WriteString("reference_id\n")
	for i := range 10 {
		csvText.WriteString("usr_" + string(rune('a'+i)) + "\n")
	}
	f, err := bulk.Parse(strings.NewReader(csvText.String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	console := bulk.New(d, inq, log)
	console.Lease = time.Second // it looks for work every third of it
	c, err := console.Check(ctx, f, bulk.Options{TemplateID: sandbox.TemplateKYC})
	if err != nil {
		t.Fatal(err)
	}
	id, err := console.Start(ctx, model.Actor{Name: "test"}, "ten.csv", bulk.Options{TemplateID: sandbox.TemplateKYC}, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := console.Pause(ctx, model.Actor{Name: "test"}, id); err != nil { // the console starts idle
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { console.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	// The console's worker claims the database first, as a running console has.
	testkit.Eventually(t, "the console's claim", 5*time.Second, func() bool {
		holder, _, _ := d.BulkWorker(ctx, time.Now())
		return holder != ""
	})

	t.Setenv("LINKDESK_PERSONA_API_KEY", sandbox.DefaultAPIKey)
	var out bytes.Buffer
	err = runBulk(ctx, []string{"--db", dbPath, "--persona-api-url", cliTS.URL + "/api/v1", "--resume", strconv.FormatInt(id, 10),
		"--results", filepath.Join(t.TempDir(), "r.csv")}, nil, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Done: 10 created") || !strings.Contains(out.String(), "it carries job") {
		t.Errorf("the command printed:\n%s", out.String())
	}
	if n, m := consoleSB.Stats().InquiriesCreated, cliSB.Stats().APICalls; n != 10 || m != 0 {
		t.Errorf("the console created %d, the command made %d Persona calls; want 10 and 0", n, m)
	}
}
