package handlers

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/persona"
)

// BenchmarkWebhookIngestion sends signed events over real HTTP to the console on a copy of the
// million-row database: every inquiry's lifecycle (created, started, completed, approved),
// shuffled so that many arrive out of order, one delivery in ten sent twice, from 16 senders
// at once. It counts events per second until the last one is applied, then checks that every
// inquiry ended at the status of its newest event.
func BenchmarkWebhookIngestion(b *testing.B) {
	src, _ := benchDatabase(b)
	const inquiries = 3000
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "ingest.db")
		copyFile(b, src, path)
		srv, h, _ := benchServer(b, path)
		ts := httptest.NewServer(h)
		secret := srv.cfg.WebhookSecrets[0]

		// Half the inquiries are new to the cache (adopted), half are seeded ones.
		var deliveries [][]byte
		final := map[string]string{}
		base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
		steps := [][2]string{{"inquiry.created", "created"}, {"inquiry.started", "pending"}, {"inquiry.completed", "completed"}, {"inquiry.approved", "approved"}}
		for i := range inquiries {
			id := fmt.Sprintf("inq_bench%020d", i)
			if i%2 == 1 {
				id = fmt.Sprintf("inq_seed%021d", i*300+1) // a seeded inquiry
			}
			for j, s := range steps {
				at := base.Add(time.Duration(i)*time.Millisecond + time.Duration(j)*time.Second)
				deliveries = append(deliveries, eventBody(fmt.Sprintf("evt_bench%dx%d", i, j), id, s[0], s[1], at))
			}
			final[id] = "approved"
		}
		rng := rand.New(rand.NewPCG(1, 2))
		rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
		n := len(deliveries)
		for i := 0; i < n; i += 10 {
			deliveries = append(deliveries, deliveries[i])
		}
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
		b.StartTimer()

		start := time.Now()
		var next atomic.Int64
		var failed atomic.Int64
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					k := int(next.Add(1)) - 1
					if k >= len(deliveries) {
						return
					}
					body := deliveries[k]
					req, _ := http.NewRequest("POST", ts.URL+"/webhooks/persona", strings.NewReader(string(body)))
					req.Header.Set("Persona-Signature", persona.SignWebhook(secret, time.Now(), body))
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
			}()
		}
		wg.Wait()
		answered := time.Since(start)
		for {
			st, err := srv.db.WebhookStats(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if st.Pending == 0 && st.Counters[db.VerdictApplied].N+st.Counters[db.VerdictStale].N == int64(n) {
				break
			}
			if time.Since(start) > 2*time.Minute {
				b.Fatalf("not applied: %+v", st)
			}
			time.Sleep(5 * time.Millisecond)
		}
		applied := time.Since(start)
		b.StopTimer()
		ts.Close()
		if failed.Load() > 0 {
			b.Fatalf("%d deliveries failed", failed.Load())
		}
		wrong := 0
		for id, want := range final {
			q, err := srv.db.GetInquiry(context.Background(), id)
			if err != nil || string(q.Status) != want {
				wrong++
			}
		}
		st, _ := srv.db.WebhookStats(context.Background())
		rate := float64(len(deliveries)) / applied.Seconds()
		b.ReportMetric(rate, "events/s")
		b.ReportMetric(float64(wrong), "wrong-status")
		fmt.Fprintf(os.Stdout, "\nWebhook ingestion at %d cached rows: %d deliveries (%d events, %d duplicates, shuffled) from 16 senders:\n"+
			"  all answered 200 in %s, all applied in %s: %.0f deliveries/s; verdicts: %d applied, %d stale, %d duplicate; %d of %d inquiries at a wrong status\n",
			benchRows, len(deliveries), n, len(deliveries)-n, answered.Round(time.Millisecond), applied.Round(time.Millisecond), rate,
			st.Counters[db.VerdictApplied].N, st.Counters[db.VerdictStale].N, st.Counters[db.VerdictDuplicate].N, wrong, len(final))
		if wrong > 0 {
			b.Fatalf("%d inquiries did not end at their newest status", wrong)
		}
		b.StartTimer()
	}
}
