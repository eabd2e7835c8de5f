package bulk

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// BenchmarkBulkSend runs a 1,000-row job against the sandbox enforcing the rate limit, with
// emails, and reports Persona calls per row, the share of the rate limit used while running,
// 429 answers, wall time and the heap's peak. At Persona's default of 300 requests a minute a
// run takes minutes, so it runs only with LINKDESK_BENCH_BULK_FULL=1; the raised limit always.
func BenchmarkBulkSend(b *testing.B) {
	for _, limit := range []int{300, 6000} {
		b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
			if limit == 300 && os.Getenv("LINKDESK_BENCH_BULK_FULL") == "" {
				b.Skip("takes about 10 minutes; set LINKDESK_BENCH_BULK_FULL=1")
			}
			for range b.N {
				benchJob(b, 1000, limit)
			}
		})
	}
}

func benchJob(b *testing.B, rows, limit int) {
	e := newEnvTB(b, sandbox.Knobs{RateLimitPerMinute: limit}, limit)
	e.fullSync() // as `linkdesk sync --full` once: the guard may then decide from the cache
	var sb strings.Builder
	sb.WriteString("reference_id,first_name,last_name,email\n")
	for i := range rows {
		fmt.Fprintf(&sb, "usr_%05d,Pat,Doe,pat%05d@example.com\n", i, i)
	}
	f, err := Parse(strings.NewReader(sb.String()), nil)
	if err != nil {
		b.Fatal(err)
	}
	o := Options{TemplateID: sandbox.TemplateKYC, Email: true}
	ctx := context.Background()
	c, err := e.eng.Check(ctx, f, o)
	if err != nil {
		b.Fatal(err)
	}
	id, err := e.eng.Start(ctx, staff, "bench.csv", o, c)
	if err != nil {
		b.Fatal(err)
	}
	before := e.sb.Stats()
	var peak, first uint64
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	first = ms.HeapAlloc
	start := time.Now()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.eng.Run(runCtx); close(done) }()
	for {
		p, err := e.eng.Progress(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
		if p.Finished {
			if p.Counts[Created] != rows {
				b.Fatalf("outcomes %v", p.Counts)
			}
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	wall := time.Since(start)
	cancel()
	<-done
	after := e.sb.Stats()
	calls := after.APICalls - before.APICalls
	allowed := wall.Minutes() * float64(limit)
	b.ReportMetric(float64(calls)/float64(rows), "calls/row")
	b.ReportMetric(100*float64(calls)/allowed, "%limit")
	b.ReportMetric(float64(after.RateLimited-before.RateLimited), "429s")
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(float64(peak)/(1<<20), "heap-peak-MB")
	b.ReportMetric(float64(first)/(1<<20), "heap-start-MB")
	b.Logf("%d rows at %d/min: %d calls (%v), %s wall, %d 429s, heap %.1f → peak %.1f MB",
		rows, limit, calls, after.Calls, wall.Round(time.Millisecond), after.RateLimited-before.RateLimited, float64(first)/(1<<20), float64(peak)/(1<<20))
}
