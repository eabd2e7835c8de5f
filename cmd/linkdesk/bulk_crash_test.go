package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/bulk"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/mail"
	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// A bulk job whose console is killed with SIGKILL twice mid-way resumes at each restart and
// ends with every row done once: one inquiry per person at the sandbox and one email per person
// at the mail catcher. The sandbox and the catcher live outside the console's process (here, in
// the test's), so they keep what the killed console had already sent them.
func TestBulkResumesAfterKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "linkdesk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// A Persona that takes a while per call, so the kills land mid-job.
	sb := sandbox.New(sandbox.Options{Knobs: sandbox.Knobs{Latency: 40 * time.Millisecond}})
	// The worst moment to die: Persona has created the inquiry and its answer is on the way.
	// With hold set, the next create is carried out by the sandbox and its answer held back
	// until the console is gone.
	var hold atomic.Bool
	createdUnanswered := make(chan struct{}, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/inquiries" && hold.CompareAndSwap(true, false) {
			sb.ServeHTTP(httptest.NewRecorder(), r)
			createdUnanswered <- struct{}{}
			<-r.Context().Done()
			return
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { ts.Close(); sb.Close() })
	catcher, err := mail.StartCatcher("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(catcher.Close)

	// The job is stored before any console runs, as `linkdesk bulk` or the page would.
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "l.db")
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := inquiry.Settings{APIKey: sandbox.DefaultAPIKey, APIBaseURL: ts.URL + "/api/v1", RequireReference: true}
	inq := inquiry.New(d, st, log, inquiry.Deps{})
	if err := inq.RegisterTemplates(ctx, []db.Template{{ID: sandbox.TemplateKYC, Name: "KYC"}}); err != nil {
		t.Fatal(err)
	}
	const n = 40
	var csvText strings.Builder
	csvText.WriteString("reference_id,first_name,email\n")
	for i := range n {
		fmt.Fprintf(&csvText, "usr_%02d,Pat,pat%02d@example.com\n", i, i)
	}
	f, err := bulk.Parse(strings.NewReader(csvText.String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	eng := bulk.New(d, inq, log)
	o := bulk.Options{TemplateID: sandbox.TemplateKYC, Email: true}
	c, err := eng.Check(ctx, f, o)
	if err != nil {
		t.Fatal(err)
	}
	id, err := eng.Start(ctx, inquiry.Actor{Name: "test"}, "crash.csv", o, c)
	if err != nil {
		t.Fatal(err)
	}

	done := func() int {
		p, err := eng.Progress(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p.Done
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 60 s (%d of %d rows done)", what, done(), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", dbPath, "--persona-api-url", ts.URL+"/api/v1", "--sync-every", "0")
		cmd.Env = append(os.Environ(), "LINKDESK_PERSONA_API_KEY="+sandbox.DefaultAPIKey, "LINKDESK_SMTP_URL="+catcher.URL(),
			"LINKDESK_MAIL_FROM=Acme <verify@acme.example>", "LINKDESK_BULK_LEASE=1s")
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
			}
		}()
		return cmd
	}
	kill9 := func(cmd *exec.Cmd) {
		cmd.Process.Kill() // SIGKILL: no shutdown, whatever was in flight stays in flight
		cmd.Wait()
	}

	cmd := start()
	waitFor("first rows", func() bool { return done() >= 10 })
	hold.Store(true)
	select {
	case <-createdUnanswered:
	case <-time.After(30 * time.Second):
		t.Fatal("no create reached the sandbox")
	}
	kill9(cmd)
	first := done()
	createdAtKill := sb.Stats().InquiriesCreated
	cmd = start()
	waitFor("more rows after the first restart", func() bool { return done() >= first+10 })
	kill9(cmd) // anywhere in a row
	second := done()
	cmd = start()
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	waitFor("the job done", func() bool { return done() == n })
	waitFor("every email delivered", func() bool { return catcher.Count() >= n })

	p, _ := eng.Progress(ctx, id)
	if p.Counts[bulk.Created] != n {
		t.Errorf("outcomes %v, want %d created", p.Counts, n)
	}
	perRef := map[string]int{}
	client := persona.New(persona.Config{BaseURL: ts.URL + "/api/v1", APIKey: sandbox.DefaultAPIKey, RateLimit: 6000})
	if err := client.EachInquiry(ctx, persona.ListInquiriesParams{PageSize: 100}, func(q *persona.Inquiry) error {
		perRef[q.ReferenceID]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	perTo := map[string]int{}
	for _, m := range catcher.Messages() {
		perTo[strings.Join(m.To, ",")]++
	}
	dupInq, dupMail := 0, 0
	for i := range n {
		if perRef[fmt.Sprintf("usr_%02d", i)] != 1 {
			dupInq++
		}
		if perTo[fmt.Sprintf("pat%02d@example.com", i)] != 1 {
			dupMail++
		}
	}
	st2 := sb.Stats()
	t.Logf("killed with %d rows done (%d created at Persona, the last unanswered) and again at %d; at the end: %d inquiries, %d idempotent replays, %d emails",
		first, createdAtKill, second, st2.InquiriesCreated, st2.IdempotentReplays, catcher.Count())
	if st2.IdempotentReplays == 0 {
		t.Error("the unanswered create was not repeated with its key")
	}
	if dupInq != 0 || dupMail != 0 || len(perRef) != n || sb.Stats().InquiriesCreated != n {
		t.Errorf("people with other than one inquiry: %d; with other than one email: %d (inquiries %v)", dupInq, dupMail, perRef)
	}
}
