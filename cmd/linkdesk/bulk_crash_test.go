package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/bulk"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/mail"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// A bulk job survives kill -9 of each of its three processes, each a real `linkdesk` process,
// each killed at the worst moment the contract allows: the console twice, each time with an
// email held mid-DATA at the catcher (sent, unanswered), the first time also with Persona's
// answer to a create on the way; the Persona sandbox with a create done and on disk, its
// answer not sent; the mail catcher with a message read, not yet stored or answered. Each is
// restarted on its own state: the console on its SQLite file, the sandbox on --state, the
// catcher on --dir. At the end every row is done once: one inquiry per person at the sandbox
// (by reference ID), one email per person at the catcher (by recipient), none skipped.
//
// The kills avoid the one moment SMTP leaves open (the catcher's 250 sent, the console's
// "sent" not yet recorded: a duplicate no client can prevent) by holding a message's data:
// the console's outbox worker sends one email at a time (mail.Worker.runBatch delivers its
// batch in turn), so while one is held no other sits between 250 and "sent".
func TestBulkResumesAfterKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "linkdesk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sbAddr, smtpAddr, mcHTTP := freeAddr(t), freeAddr(t), freeAddr(t) // fixed, so each restart listens where the console calls
	apiURL := "http://" + sbAddr + "/api/v1"
	mailDir := filepath.Join(tmp, "mail")
	sbProc := newProc(t, "sandbox", []string{bin, "sandbox", "--addr", sbAddr, "--state", filepath.Join(tmp, "sandbox.json")})
	mcProc := newProc(t, "mailcatcher", []string{bin, "mailcatcher", "--addr", smtpAddr, "--dir", mailDir, "--http", mcHTTP})

	// The job is stored before any console runs, as `linkdesk bulk` or the page would.
	ctx := context.Background()
	dbPath := filepath.Join(tmp, "l.db")
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	inq := inquiry.New(d, inquiry.Settings{APIKey: sandbox.DefaultAPIKey, APIBaseURL: apiURL, RequireReference: true}, log, inquiry.Deps{})
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
	id, err := eng.Start(ctx, model.Actor{Name: "test"}, "crash.csv", o, c)
	if err != nil {
		t.Fatal(err)
	}
	console := newProc(t, "console", []string{bin, "serve", "--addr", "127.0.0.1:0", "--db", dbPath, "--persona-api-url", apiURL, "--sync-every", "0"},
		"LINKDESK_PERSONA_API_KEY="+sandbox.DefaultAPIKey, "LINKDESK_SMTP_URL=smtp://"+smtpAddr+"?tls=none",
		"LINKDESK_MAIL_FROM=Acme <verify@acme.example>", "LINKDESK_BULK_LEASE=1s", "LINKDESK_MAIL_BACKOFF=200ms")

	done := func() int {
		p, err := eng.Progress(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p.Done
	}
	caught := func() []mail.Caught {
		ms, err := mail.ReadCaught(mailDir) // what the catcher has on disk, read by its own code
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 60 s (%d of %d rows done, %d emails)\nconsole:\n%s\nsandbox:\n%s", what, done(), n, len(caught()), console.logs, sbProc.logs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	stats := func() sandbox.Stats {
		var st sandbox.Stats
		res, err := http.Get("http://" + sbAddr + "/_sandbox/stats")
		if err == nil {
			err = json.NewDecoder(res.Body).Decode(&st)
			res.Body.Close()
		}
		if err != nil {
			t.Fatalf("sandbox stats: %v", err)
		}
		return st
	}
	knobs := func(body string) {
		res, err := http.Post("http://"+sbAddr+"/_sandbox/knobs", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("knobs %s: %s", body, res.Status)
		}
	}
	mcStats := func() mail.CatcherStats {
		var st mail.CatcherStats
		res, err := http.Get("http://" + mcHTTP + "/stats")
		if err == nil {
			err = json.NewDecoder(res.Body).Decode(&st)
			res.Body.Close()
		}
		if err != nil {
			t.Fatalf("catcher stats: %v", err)
		}
		return st
	}
	// holdMail has the catcher hold the next message mid-DATA; heldMail waits until it does,
	// the outbox worker then blocked on its answer (for up to the console's SMTP timeout, 30 s:
	// so each hold is armed just before its kill, while rows, and so emails, remain).
	holdMail := func() {
		res, err := http.Post("http://"+mcHTTP+"/knobs", "application/json", strings.NewReader(`{"hold-data": 1}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("catcher knobs: %s", res.Status)
		}
	}
	heldMail := func() {
		t.Helper()
		if done() >= n-1 {
			t.Fatalf("%d of %d rows done: too few emails left to be sure one comes to be held", done(), n)
		}
		waitFor("an email held mid-DATA at the catcher", func() bool { return mcStats().Held == 1 })
	}
	startSandbox := func() {
		sbProc.start()
		waitFor("the sandbox listening", func() bool {
			res, err := http.Get("http://" + sbAddr + "/_sandbox/stats")
			if err == nil {
				res.Body.Close()
			}
			return err == nil
		})
		knobs(`{"latency": "40ms"}`) // a Persona that takes a while per call, so the kills land mid-job
	}
	startCatcher := func() {
		mcProc.start()
		waitFor("the catcher listening", func() bool {
			res, err := http.Get("http://" + mcHTTP + "/stats") // both listeners up
			if err == nil {
				res.Body.Close()
			}
			conn, err2 := net.Dial("tcp", smtpAddr)
			if err2 == nil {
				conn.Close()
			}
			return err == nil && err2 == nil
		})
	}
	// holdCreate has the sandbox carry out the next create (storing it) and hold its answer,
	// and waits until it does: the worst moment for the console or the sandbox to die.
	holdCreate := func() {
		held := stats().AnswersHeld
		knobs(`{"hold-answers": 1}`)
		waitFor("a create held at the sandbox", func() bool { return stats().AnswersHeld > held })
	}
	// restartConsole starts the console again and waits until the catcher has let go of the
	// message the killed console had held there (discarded unstored; the new console sends it
	// again from its outbox).
	restartConsole := func() {
		console.start()
		waitFor("the killed console's held email discarded", func() bool { return mcStats().Held == 0 })
	}

	startSandbox()
	startCatcher()
	console.start()

	waitFor("first rows", func() bool { return done() >= 8 })
	holdMail()
	heldMail()
	holdCreate() // both held: the worker mid-DATA, the job mid-create
	console.kill9()
	atConsoleKill := done()
	restartConsole()
	waitFor("the unanswered create repeated with its key", func() bool { return stats().IdempotentReplays >= 1 })
	waitFor("more rows after the console's restart", func() bool { return done() >= atConsoleKill+8 })

	holdCreate()
	sbProc.kill9()
	atSandboxKill := done()
	startSandbox() // a new process: its counters start at 0, its state is the file's
	waitFor("more rows after the sandbox's restart", func() bool { return done() >= atSandboxKill+6 })

	mails := len(caught())
	waitFor("more emails", func() bool { return len(caught()) >= mails+3 })
	holdMail()
	heldMail()
	atCatcherKill := len(caught())
	mcProc.kill9() // a message read and not stored: the console sends it again
	startCatcher() // a new process: it holds nothing until asked
	waitFor("more rows after the catcher's restart", func() bool { return done() >= atSandboxKill+12 })

	holdMail()
	heldMail()
	console.kill9()
	atSecondConsoleKill := done()
	restartConsole()
	waitFor("the job done", func() bool { return done() == n })
	waitFor("every email delivered", func() bool { return len(caught()) >= n })

	p, err := eng.Progress(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Counts[bulk.Created] != n {
		t.Errorf("outcomes %v, want %d created", p.Counts, n)
	}
	// Each restarted console found the email it was killed sending (held) and queued it again.
	requeued := strings.Count(console.logs.String(), "emails left mid-send by the last run are queued again")
	if requeued != 2 {
		t.Errorf("%d console starts handed back emails left mid-send, want 2 (one per kill)", requeued)
	}
	perRef, inquiries := map[string]int{}, 0
	client := persona.New(persona.Config{BaseURL: apiURL, APIKey: sandbox.DefaultAPIKey, RateLimit: 6000})
	if err := client.EachInquiry(ctx, persona.ListInquiriesParams{PageSize: 100}, func(q *persona.Inquiry) error {
		perRef[q.ReferenceID]++
		inquiries++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The create the killed sandbox had stored came back as a replay of its key, not a second inquiry.
	if st := stats(); st.IdempotentReplays == 0 {
		t.Errorf("the restarted sandbox replayed no create (it created %d inquiries)", st.InquiriesCreated)
	}
	perTo := map[string]int{}
	msgs := caught()
	for _, m := range msgs {
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
	t.Logf("console killed at %d rows (a create unanswered, an email held) and at %d (an email held); sandbox killed at %d (a create stored, unanswered); catcher killed at %d emails (one held); emails handed back at %d console starts; at the end: %d inquiries, %d emails",
		atConsoleKill, atSecondConsoleKill, atSandboxKill, atCatcherKill, requeued, inquiries, len(msgs))
	if dupInq != 0 || dupMail != 0 || inquiries != n || len(msgs) != n {
		t.Errorf("people with other than one inquiry: %d; with other than one email: %d (%d inquiries, %d emails; per reference %v; per recipient %v)",
			dupInq, dupMail, inquiries, len(msgs), perRef, perTo)
	}
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is one process of the built binary, started again after each kill.
type proc struct {
	t    *testing.T
	name string
	args []string
	env  []string
	cmd  *exec.Cmd
	logs *syncBuffer // every run's output, for a failure's message
}

func newProc(t *testing.T, name string, args []string, env ...string) *proc {
	p := &proc{t: t, name: name, args: args, env: env, logs: &syncBuffer{}}
	t.Cleanup(func() {
		if p.cmd != nil && p.cmd.ProcessState == nil {
			p.kill9()
		}
	})
	return p
}

func (p *proc) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.args[0], p.args[1:]...)
	p.cmd.Env = append(os.Environ(), p.env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

// kill9 sends SIGKILL: no shutdown, whatever was in flight stays in flight.
func (p *proc) kill9() {
	p.cmd.Process.Kill()
	p.cmd.Wait()
	fmt.Fprintf(p.logs, "---- %s killed ----\n", p.name)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
