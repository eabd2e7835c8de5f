package handlers

import (
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// BenchmarkCreateInquiry is the staff journey's core: POST the New inquiry form (duplicate
// guard lookup at Persona, create, save, first link) against the sandbox over loopback HTTP,
// then follow the redirect to the detail page. Reports p50/p99 per create. Both rate limits are
// raised: at Persona's 300 requests a minute the client paces a sustained run to about 200 ms
// a request (two a create), which is the limit's cost, not the console's.
func BenchmarkCreateInquiry(b *testing.B) {
	e := newSandboxEnv(b, sandbox.Knobs{RateLimitPerMinute: 1 << 30}, func(st *inquiry.Settings) { st.RateLimit = 1 << 30 })
	e.addUser("agent@example.com", db.RoleAgent, pw)
	c := e.signIn("agent@example.com", pw)
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		form := alexanderForm(fmt.Sprintf("bench-%d", i))
		form.Set("reference_id", fmt.Sprintf("usr_bench_%d", i))
		start := time.Now()
		res, _ := e.do(c, "POST", "/inquiries", form)
		if res.StatusCode != http.StatusSeeOther {
			b.Fatalf("create %d: %d", i, res.StatusCode)
		}
		if res, _ = e.do(c, "GET", res.Header.Get("Location"), nil); res.StatusCode != http.StatusOK {
			b.Fatalf("detail %d: %d", i, res.StatusCode)
		}
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, "p99-ms")
}
