package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/internal/testkit/sandboxkit"
	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// A Persona-Version the client cannot parse is refused at start, in words, by flag or by
// environment; the refusal comes before anything listens or opens the database.
func TestPersonaVersionRefusedAtStart(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "l.db")
	for name, run := range map[string]func(args []string) error{
		"serve": func(args []string) error {
			// Bounded, so a serve that accepted the version stops and the test fails rather than hangs.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			return runServe(ctx, append([]string{"--db", dbPath, "--addr", "127.0.0.1:0"}, args...), nil, &bytes.Buffer{})
		},
		"sync": func(args []string) error {
			return runSync(context.Background(), append([]string{"--db", dbPath}, args...), nil, &bytes.Buffer{})
		},
	} {
		// 2022-09-01 is a real Persona version, but not one whose shapes Linkdesk reads.
		err := run([]string{"--persona-version", "2022-09-01"})
		if err == nil || !strings.Contains(err.Error(), `Persona-Version "2022-09-01" is not one Linkdesk understands`) ||
			!strings.Contains(err.Error(), "2023-01-05, 2025-10-27, 2025-12-08") {
			t.Errorf("%s --persona-version 2022-09-01: %v, want a refusal naming the versions it reads", name, err)
		}
		t.Setenv("LINKDESK_PERSONA_VERSION", "latest")
		if err := run(nil); err == nil || !strings.Contains(err.Error(), `"latest" is not one Linkdesk understands`) {
			t.Errorf("%s with LINKDESK_PERSONA_VERSION=latest: %v", name, err)
		}
		t.Setenv("LINKDESK_PERSONA_VERSION", "")
	}
}

// linkdesk sync stops on a list whose links.next never advances, with the reason in words,
// after a bounded number of calls.
func TestSyncStopsOnRepeatingCursor(t *testing.T) {
	sb, sbURL := sandboxkit.Start(t, sandbox.Options{})
	c := persona.New(persona.Config{BaseURL: sbURL + "/api/v1", APIKey: sandbox.DefaultAPIKey})
	if _, err := c.CreateInquiry(context.Background(), persona.CreateInquiryParams{TemplateID: sandbox.TemplateKYC, IdempotencyKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	sb.SetKnobs(sandbox.Knobs{StuckCursor: true})
	t.Setenv("LINKDESK_PERSONA_API_KEY", sandbox.DefaultAPIKey)
	var out bytes.Buffer
	dbPath := filepath.Join(t.TempDir(), "l.db")
	if err := runMigrate(context.Background(), []string{"--db", dbPath}, nil, &out); err != nil { // sync creates no database
		t.Fatal(err)
	}
	err := runSync(context.Background(), []string{"--db", dbPath, "--persona-api-url", sbURL + "/api/v1", "--full"}, nil, &out)
	calls := sb.Stats().Calls["GET /inquiries"]
	if err == nil || !strings.Contains(err.Error(), "next-page link repeated a page already read") {
		t.Fatalf("sync: %v after %d list calls, want the repeated-cursor error", err, calls)
	}
	if calls > 3 {
		t.Errorf("%d list calls, want at most 3", calls)
	}
}
