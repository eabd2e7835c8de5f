package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
	_ "modernc.org/sqlite"
)

// replicationWindow is how long an acknowledged write may take to reach the replica:
// Litestream notices WAL changes each second and ships them each second (measured: under
// 2 s), with a second's margin for a busy machine.
const replicationWindow = 3 * time.Second

// webhookBody is a signed-ready Persona event about inquiry n.
func webhookBody(n int, at time.Time) (evtID string, body []byte) {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	evtID, inqID := fmt.Sprintf("evt_repl%08d", n), fmt.Sprintf("inq_repl%08d", n)
	doc := map[string]any{"data": map[string]any{
		"type": "event", "id": evtID,
		"attributes": map[string]any{"name": "inquiry.created", "created-at": ts(at), "payload": map[string]any{
			"data": map[string]any{
				"type": "inquiry", "id": inqID,
				"attributes": map[string]any{"status": "created", "reference-id": fmt.Sprintf("ref-%d", n),
					"created-at": ts(at), "updated-at": ts(at), "fields": map[string]any{}},
				"relationships": map[string]any{"inquiry-template": map[string]any{"data": map[string]any{"type": "inquiry-template", "id": sandbox.TemplateKYC}}},
			},
			"included": []any{},
		}},
	}}
	body, _ = json.Marshal(doc)
	return evtID, body
}

// TestReplicationSurvivesKill9 streams the console's database to a folder replica while
// webhooks arrive, kills the console with SIGKILL, restores the replica into a new file and
// finds every webhook acknowledged more than replicationWindow before the kill, an intact
// database, and a console that starts on it.
func TestReplicationSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "linkdesk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	replica := "file://" + filepath.Join(tmp, "replica")
	testReplicationKill9(t, bin, tmp, replica, nil)
}

// TestReplicationToS3SurvivesKill9 is the same against a local S3 server (gofakes3, in memory),
// reached through --replicate-to's endpoint option with credentials from the environment.
func TestReplicationToS3SurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "linkdesk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	replica, creds := fakeS3Replica(t)
	testReplicationKill9(t, bin, tmp, replica, creds)
}

// fakeS3Replica starts a local S3 server (gofakes3, in memory) until the test ends and returns
// a --replicate-to URL for it, with its credentials set in this process's environment (for
// in-process serve and restore) and returned for a child process's.
func fakeS3Replica(t testing.TB) (replica string, creds []string) {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("linkdesk"); err != nil {
		t.Fatal(err)
	}
	s3 := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(s3.Close)
	// AWS_CA_BUNDLE (set on some machines) makes Litestream's S3 client refuse to start ("unable
	// to add custom RootCAs"); the local server is plain HTTP and needs none.
	creds = []string{"AWS_ACCESS_KEY_ID=test-key", "AWS_SECRET_ACCESS_KEY=test-secret", "AWS_CA_BUNDLE="}
	for _, c := range creds {
		k, v, _ := strings.Cut(c, "=")
		t.Setenv(k, v)
	}
	return "s3://linkdesk/prod/db?endpoint=" + url.QueryEscape(s3.URL) + "&region=us-east-1&forcePathStyle=true", creds
}

func testReplicationKill9(t *testing.T, bin, tmp, replica string, env []string) {
	addr := freeAddr(t)
	const secret = "wbhsec_replication_test"
	console := newProc(t, "console", []string{bin, "serve", "--addr", addr, "--db", filepath.Join(tmp, "l.db"),
		"--replicate-to", replica, "--sync-every", "0", "--metrics"}, append(env, "LINKDESK_PERSONA_WEBHOOK_SECRETS="+secret, "LINKDESK_METRICS_TOKEN=tok")...)
	console.start()
	base := "http://" + addr
	waitUp := func(what string, p *proc) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			res, err := http.Get(base + "/readyz")
			if err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not ready within 20 s:\n%s", what, p.logs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitUp("console", console)
	if _, _, body := get(t, base+"/readyz"); !strings.Contains(body, "replication: ok") {
		t.Errorf("/readyz does not report replication: %q", body)
	}

	// Two senders deliver webhooks as fast as the console takes them; each 200 is a write
	// acknowledged (the event is stored before the answer).
	var mu sync.Mutex
	acked := map[string]time.Time{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id, body := webhookBody(w*1_000_000+i, time.Now())
				req, _ := http.NewRequest("POST", base+"/webhooks/persona", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Persona-Signature", persona.SignWebhook(secret, time.Now(), body))
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					continue // the kill
				}
				res.Body.Close()
				if res.StatusCode == 200 {
					mu.Lock()
					acked[id] = time.Now()
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(4 * time.Second) // the load runs for a while: this is the test's workload, not a wait for a result
	if _, _, body := get(t, base+"/metrics", "Authorization", "Bearer tok"); !strings.Contains(body, "linkdesk_replication_lag_seconds ") || !strings.Contains(body, "linkdesk_replication_last_success_timestamp_seconds ") {
		t.Errorf("/metrics lacks the replication metrics")
	}
	console.kill9()
	killedAt := time.Now()
	close(stop)
	wg.Wait()

	restored := filepath.Join(tmp, "restored", "l.db")
	if out, err := exec.Command(bin, "restore", "--from", replica, "--to", restored).CombinedOutput(); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	rdb, err := sql.Open("sqlite", "file:"+restored+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	var check string
	if err := rdb.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	have := map[string]bool{}
	rows, err := rdb.Query("SELECT id FROM webhook_events")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		have[id] = true
	}
	rows.Close()
	var lost, mustHave int
	var newestRestored time.Time
	for id, at := range acked {
		if have[id] && at.After(newestRestored) {
			newestRestored = at
		}
		if at.Before(killedAt.Add(-replicationWindow)) {
			mustHave++
			if !have[id] {
				lost++
			}
		}
	}
	t.Logf("writes acknowledged %d (%d more than %s before the kill); restored %d; lost of those %d; lag (kill − newest restored write) %s",
		len(acked), mustHave, replicationWindow, len(have), lost, killedAt.Sub(newestRestored).Round(time.Millisecond))
	if mustHave == 0 || lost > 0 {
		t.Fatalf("%d of %d writes acknowledged more than %s before the kill are missing from the restore\n%s", lost, mustHave, replicationWindow, console.logs)
	}

	// The restored file serves: a console started on it is ready.
	os.Remove(filepath.Join(tmp, "l.db"))
	again := newProc(t, "restored console", []string{bin, "serve", "--addr", addr, "--db", restored, "--sync-every", "0"})
	again.start()
	waitUp("restored console", again)
	res, err := http.Get(base + "/login")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("restored console's sign-in page: %v %v", res, err)
	}
	res.Body.Close()
}

// TestRestoreIfMissing: a machine whose database file is gone does not start empty beside a
// replica with data; with --restore-if-missing it comes back with the data.
func TestRestoreIfMissing(t *testing.T) {
	tmp := t.TempDir()
	dbPath := filepath.Join(tmp, "data", "l.db")
	replica := "file://" + filepath.Join(tmp, "replica")
	const secret = "wbhsec_restore_test"
	t.Setenv("LINKDESK_PERSONA_WEBHOOK_SECRETS", secret)
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o755); err != nil {
		t.Fatal(err)
	}
	quick := &http.Client{Timeout: time.Second}
	serve := func(args ...string) (stop func() error, base string) {
		addr := freeAddr(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		logs := &syncBuffer{}
		go func() {
			done <- runServe(ctx, append([]string{"--addr", addr, "--db", dbPath, "--replicate-to", replica, "--sync-every", "0"}, args...), nil, logs)
		}()
		base = "http://" + addr
		deadline := time.Now().Add(20 * time.Second)
		for {
			select {
			case err := <-done:
				cancel()
				return func() error { return err }, ""
			default:
			}
			if res, err := quick.Get(base + "/readyz"); err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					return func() error {
						cancel()
						if err := <-done; !errors.Is(err, context.Canceled) { // stopped while still printing its start-up lines
							return err
						}
						return nil
					}, base
				}
			}
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("serve not ready:\n%s", logs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	stop, base := serve()
	if base == "" {
		t.Fatalf("serve with a new replica: %v", stop())
	}
	id, body := webhookBody(1, time.Now())
	req, _ := http.NewRequest("POST", base+"/webhooks/persona", bytes.NewReader(body))
	req.Header.Set("Persona-Signature", persona.SignWebhook(secret, time.Now(), body))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("webhook: %v %v", res, err)
	}
	res.Body.Close()
	if err := stop(); err != nil { // a clean stop ships what is left
		t.Fatal(err)
	}
	// The disk is lost: the file, its WAL and Litestream's folder beside it.
	if err := os.RemoveAll(filepath.Dir(dbPath)); err != nil {
		t.Fatal(err)
	}

	stop, _ = serve()
	if err := stop(); err == nil || !strings.Contains(err.Error(), "is missing but the replica") || !strings.Contains(err.Error(), "--restore-if-missing") {
		t.Fatalf("serve without its database beside a replica with data: %v, want a refusal naming --restore-if-missing", err)
	}
	if _, err := os.Stat(dbPath); !os.IsNotExist(err) {
		t.Fatalf("the refusal left a database file: %v", err)
	}

	stop, _ = serve("--restore-if-missing")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	d, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.QueryRow("SELECT count(*) FROM webhook_events WHERE id = ?", id).Scan(&n); err != nil || n != 1 {
		t.Errorf("the restored database lacks the webhook stored before the loss: %d %v", n, err)
	}
}
