package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/litestream"

	"github.com/linkdesk/linkdesk/internal/testkit"
	"github.com/linkdesk/linkdesk/persona"
)

// The write overhead of replication: signed webhooks over real HTTP to serve on a fresh
// database, without a replica, with a folder replica and with a local S3 server's.
const (
	replBenchEvents  = 2000 // per iteration
	replBenchSenders = 8
	replBenchSecret  = "wbhsec_replication_bench"
)

// BenchmarkReplicationOverhead reports events/s until every event is applied, and for a
// replica how long after that the replica held them all (catchup-ms: the newest copy
// restored holds every event applied; Litestream ships each second). Each sub-benchmark
// starts one console; further iterations add new events to its database.
func BenchmarkReplicationOverhead(b *testing.B) {
	b.Run("off", func(b *testing.B) { benchReplicatedIngestion(b, "") })
	b.Run("file", func(b *testing.B) { benchReplicatedIngestion(b, "file://"+filepath.Join(b.TempDir(), "replica")) })
	b.Run("s3", func(b *testing.B) {
		replica, _ := fakeS3Replica(b)
		benchReplicatedIngestion(b, replica)
	})
}

func benchReplicatedIngestion(b *testing.B, replica string) {
	b.Setenv("LINKDESK_PERSONA_WEBHOOK_SECRETS", replBenchSecret)
	dbPath := filepath.Join(b.TempDir(), "l.db")
	// This --db comes after serveForTest's own and wins, so the benchmark can read the file.
	args := []string{"--db", dbPath, "--sync-every", "0"}
	if replica != "" {
		args = append(args, "--replicate-to", replica)
	}
	base, logs := serveForTest(b, args...)
	live := openReadOnly(b, dbPath)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: replBenchSenders}}
	b.Cleanup(client.CloseIdleConnections)

	var sent int
	var busy, caughtUp time.Duration
	for b.Loop() {
		start := time.Now()
		sendWebhooks(b, client, base, sent, replBenchEvents, logs)
		sent += replBenchEvents
		testkit.Eventually(b, "every event applied", 2*time.Minute, func() bool { return allApplied(b, live, sent) })
		applied := time.Now()
		busy += applied.Sub(start)
		if replica != "" {
			b.StopTimer()
			caughtUp += replicaCatchUp(b, replica, sent, applied)
			b.StartTimer()
		}
	}
	rate := float64(sent) / busy.Seconds()
	b.ReportMetric(rate, "events/s")
	line := fmt.Sprintf("%d events from %d senders, all applied in %s: %.0f events/s", sent, replBenchSenders, busy.Round(time.Millisecond), rate)
	if replica != "" {
		perIter := caughtUp / time.Duration(b.N)
		b.ReportMetric(float64(perIter.Milliseconds()), "catchup-ms")
		line += fmt.Sprintf("; the replica held them all %s after the last was applied", perIter.Round(time.Millisecond))
	}
	fmt.Fprintf(os.Stdout, "\n%s: %s\n", b.Name(), line)
}

// sendWebhooks delivers count new signed events (numbered from first) from the senders and
// fails the benchmark unless each is answered 200 (stored).
func sendWebhooks(b *testing.B, client *http.Client, base string, first, count int, logs *syncBuffer) {
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range replBenchSenders {
		wg.Go(func() {
			for {
				k := int(next.Add(1)) - 1
				if k >= count {
					return
				}
				_, body := webhookBody(first+k, time.Now())
				req, _ := http.NewRequest("POST", base+"/webhooks/persona", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Persona-Signature", persona.SignWebhook(replBenchSecret, time.Now(), body))
				res, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d deliveries not answered 200\n%s", n, count, logs)
	}
}

// replicaCatchUp waits until the newest copy in the replica holds want applied events and
// returns how long after applied that copy appeared. It restores only when Litestream has
// shipped a newer transaction, so the polling itself stays light.
func replicaCatchUp(b *testing.B, replica string, want int, applied time.Time) time.Duration {
	ctx := context.Background()
	client, err := litestream.NewReplicaClientFromURL(replica)
	if err != nil {
		b.Fatal(err)
	}
	rp := litestream.NewReplicaWithClient(nil, client)
	dir := b.TempDir()
	var seen uint64
	var took time.Duration
	testkit.Eventually(b, "the replica holds every applied event", time.Minute, func() bool {
		info, err := rp.MaxLTXFileInfo(ctx, 0)
		if err != nil {
			b.Fatalf("list the replica: %v", err)
		}
		if uint64(info.MaxTXID) <= seen {
			return false
		}
		took, seen = time.Since(applied), uint64(info.MaxTXID)
		path := filepath.Join(dir, fmt.Sprintf("tx%d.db", seen))
		if err := restoreFrom(ctx, replica, path, time.Time{}); err != nil {
			b.Fatalf("restore from the replica: %v", err)
		}
		d := openReadOnly(b, path)
		defer d.Close()
		return allApplied(b, d, want)
	})
	return took
}

// allApplied reports whether the database holds want events, each applied; an event settled
// otherwise (refused, stale) fails the benchmark, which would then measure something else.
func allApplied(b *testing.B, d *sql.DB, want int) bool {
	var total, waiting, applied int
	err := d.QueryRow(`SELECT count(*), coalesce(sum(verdict = 'received'), 0), coalesce(sum(verdict = 'applied'), 0) FROM webhook_events`).Scan(&total, &waiting, &applied)
	if err != nil {
		b.Fatal(err)
	}
	if waiting == 0 && applied < total {
		b.Fatalf("%d of %d events settled without being applied", total-applied, total)
	}
	return waiting == 0 && applied == want
}

func openReadOnly(b *testing.B, path string) *sql.DB {
	d, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d
}
