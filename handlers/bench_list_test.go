package handlers

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/internal/seed"
)

// listCombos are the filter combinations measured; the dates are relative to the seed's now.
func listCombos(now time.Time) [][2]string {
	day := func(d int) string { return now.AddDate(0, 0, d).UTC().Format("2006-01-02") }
	t1, t2, t5 := seed.Templates[0].ID, seed.Templates[1].ID, seed.Templates[4].ID
	return [][2]string{
		{"no filter", ""},
		{"status created (never started)", "status=created"},
		{"status pending (started, not finished)", "status=pending"},
		{"statuses approved+declined", "status=approved&status=declined"},
		{"template", "template=" + t5},
		{"created by", "created_by=7"},
		{"created last 30 days", "from=" + day(-30)},
		{"created in one week a year ago", "from=" + day(-365) + "&to=" + day(-358)},
		{"expiring within 24 h", "expiring=1"},
		{"search reference prefix", "q=CUST-00012"},
		{"search name 'jo' (broad)", "q=jo"},
		{"search 'maria s' (narrow)", "q=maria+s"},
		{"search email 'mar'", "q=mar"},
		{"search no match", "q=zzzz"},
		{"status+template+creator", "status=declined&template=" + t2 + "&created_by=3"},
		{"status+template+search", "status=approved&template=" + t1 + "&q=a"},
		{"status+creator+old range", "status=needs_review&created_by=5&from=" + day(-365) + "&to=" + day(-300)},
		{"everything", "status=approved&status=completed&template=" + t1 + "&created_by=4&from=" + day(-400) + "&to=" + day(-30) + "&q=a"},
		{"sort updated", "sort=updated"},
		{"sort updated, status", "sort=updated&status=declined"},
		{"sort updated, old week", "sort=updated&from=" + day(-365) + "&to=" + day(-358)},
		{"sort updated, status+creator+old range", "sort=updated&status=needs_review&created_by=5&from=" + day(-365) + "&to=" + day(-300)},
	}
}

func BenchmarkListPage(b *testing.B) {
	path, now := benchDatabase(b)
	srv, h, cookies := benchServer(b, path)
	srv.listCache.noPage = true // measure the queries and the rendering, not the page cache
	// Warm SQLite's page cache, as a running console would be.
	for range 3 {
		get(h, cookies, "/inquiries", false)
	}
	type row struct {
		name          string
		p50, p99, max float64
		bytes         int
	}
	var summary []row
	for _, c := range listCombos(now) {
		b.Run(c[0], func(b *testing.B) {
			path := "/inquiries?" + c[1]
			first := get(h, cookies, path, false)
			if first.Code != http.StatusOK {
				b.Fatalf("%s: %d", path, first.Code)
			}
			// Page 2 as well: keyset pages cost the same as the first.
			older := olderRe.FindStringSubmatch(first.Body.String())
			paths := []string{path}
			if older != nil {
				paths = append(paths, strings.ReplaceAll(older[1], "&amp;", "&"))
			}
			var ds []time.Duration
			i := 0
			for b.Loop() {
				start := time.Now()
				rec := get(h, cookies, paths[i%len(paths)], false)
				ds = append(ds, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d", paths[i%len(paths)], rec.Code)
				}
				i++
			}
			r := row{c[0], percentile(ds, 0.5), percentile(ds, 0.99), percentile(ds, 1), first.Body.Len()}
			b.ReportMetric(r.p50, "p50-ms")
			b.ReportMetric(r.p99, "p99-ms")
			summary = append(summary, r)
		})
	}
	fmt.Fprintf(os.Stdout, "\nInquiry list at %d rows, rendered afresh each time (full page through the route table, 50 rows; pages 1 and 2 alternate):\n", benchRows)
	fmt.Fprintf(os.Stdout, "  %-48s %8s %8s %8s %8s\n", "filter", "p50 ms", "p99 ms", "max ms", "KB")
	for _, r := range summary {
		fmt.Fprintf(os.Stdout, "  %-48s %8.2f %8.2f %8.2f %8.1f\n", r.name, r.p50, r.p99, r.max, float64(r.bytes)/1024)
	}
}

// BenchmarkListThroughput compares pages per second of the real list with the same page's
// bytes served from memory by a bare handler and behind the same middleware (sessions,
// security headers, compression, access log), all with as many parallel clients as cores.
func BenchmarkListThroughput(b *testing.B) {
	path, _ := benchDatabase(b)
	srv, h, cookies := benchServer(b, path)
	page := get(h, cookies, "/inquiries", false).Body.Bytes()
	static := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}
	// The same page gzipped once, as a bare server with the bytes at hand would send them.
	var zpage bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zpage, gzip.BestSpeed)
	zw.Write(page)
	zw.Close()
	staticGz := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(zpage.Bytes())
	}
	// The chain of Server.Handler around one handler.
	var pre http.Handler = srv.authorize(Viewer, http.HandlerFunc(static))
	pre = srv.loadSession(pre)
	pre = http.NewCrossOriginProtection().Handler(pre)
	pre = limitBody(pre)
	pre = securityHeaders(pre, false)
	pre = srv.recoverPanics(pre)
	pre = compress(pre)
	pre = srv.accessLog(pre)

	rates := map[string]float64{}
	cases := []struct {
		name   string
		h      http.Handler
		path   string
		cached bool
		gzip   bool
	}{
		{"bare net/http", http.HandlerFunc(static), "/inquiries", false, false},
		{"pre-rendered", pre, "/inquiries", false, false},
		{"bare net/http, gzipped", http.HandlerFunc(staticGz), "/inquiries", false, true},
		{"list no filter, cached, gzip", h, "/inquiries", true, true},
		{"list no filter, cached", h, "/inquiries", true, false},
		{"list status pending, cached", h, "/inquiries?status=pending", true, false},
		{"list no filter, uncached", h, "/inquiries", false, false},
		{"list status pending, uncached", h, "/inquiries?status=pending", false, false},
		{"list search jo, uncached", h, "/inquiries?q=jo", false, false},
		{"list expiring, uncached", h, "/inquiries?expiring=1", false, false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			srv.listCache.mu.Lock()
			srv.listCache.noPage = !c.cached
			srv.listCache.mu.Unlock()
			var n atomic.Int64
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("GET", c.path, nil)
					for _, ck := range cookies {
						req.AddCookie(ck)
					}
					if c.gzip {
						req.Header.Set("Accept-Encoding", "gzip")
					}
					rec := httptest.NewRecorder()
					c.h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Errorf("%d", rec.Code)
						return
					}
					n.Add(1)
				}
			})
			rate := float64(n.Load()) / time.Since(start).Seconds()
			rates[c.name] = rate
			b.ReportMetric(rate, "pages/s")
		})
	}
	fmt.Fprintf(os.Stdout, "\nList throughput (%d parallel clients, page %.1f KB; cached: no inquiry changed since the page was rendered):\n", runtimeProcs(), float64(len(page))/1024)
	for _, c := range cases {
		fmt.Fprintf(os.Stdout, "  %-32s %8.0f pages/s  (%3.0f%% of pre-rendered, %3.0f%% of bare net/http)\n", c.name, rates[c.name],
			100*rates[c.name]/rates["pre-rendered"], 100*rates[c.name]/rates["bare net/http"])
	}
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
