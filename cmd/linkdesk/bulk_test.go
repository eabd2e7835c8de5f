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
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
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
