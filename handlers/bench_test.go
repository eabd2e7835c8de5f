package handlers

// `make bench`: the inquiry list at a million cached inquiries through the real route table
// (latency per filter combination, and throughput against the same page's bytes served
// pre-rendered through the same middleware), the CSV export's rows per second, and webhook
// ingestion (verify + store + apply) in events per second with duplicates and out-of-order
// deliveries mixed in. The seeded database is built once and kept in .cache/bench/.

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/internal/seed"
	"github.com/linkdesk/linkdesk/persona"
	"golang.org/x/crypto/bcrypt"
)

const (
	benchRows     = 1_000_000
	benchEmail    = "bench@example.com"
	benchPassword = "bench password 123"
)

var benchSeed struct {
	once sync.Once
	path string
	now  time.Time
	err  error
}

func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// benchDatabase returns the seeded database, building it on first use. Its name carries a hash
// of the migrations and the seeder, so a schema change seeds afresh.
func benchDatabase(b *testing.B) (string, time.Time) {
	benchSeed.once.Do(func() {
		root := repoRoot()
		h := sha256.New()
		files, _ := filepath.Glob(filepath.Join(root, "db", "migrations", "*.sql"))
		files = append(files, filepath.Join(root, "internal", "seed", "seed.go"))
		for _, f := range files {
			body, _ := os.ReadFile(f)
			h.Write(body)
		}
		dir := filepath.Join(root, ".cache", "bench")
		os.MkdirAll(dir, 0o755)
		path := filepath.Join(dir, fmt.Sprintf("inquiries-%d-%s.db", benchRows, hex.EncodeToString(h.Sum(nil))[:12]))
		stamp := path + ".seeded" // holds the seed's "now"
		if raw, err := os.ReadFile(stamp); err == nil {
			if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(raw))); err == nil {
				benchSeed.path, benchSeed.now = path, t
				return
			}
		}
		old, _ := filepath.Glob(filepath.Join(dir, "inquiries-*.db*"))
		for _, f := range old {
			os.Remove(f)
		}
		ctx := context.Background()
		start := time.Now()
		fmt.Fprintf(os.Stderr, "bench: seeding %d inquiries into %s (once)...\n", benchRows, path)
		d, err := db.Open(ctx, path)
		if err != nil {
			benchSeed.err = err
			return
		}
		defer d.Close()
		now := time.Now().Truncate(time.Millisecond)
		if err := seed.Inquiries(ctx, d.W, seed.Options{N: benchRows, Now: now, Seed: 1}); err != nil {
			benchSeed.err = err
			return
		}
		hash, _ := bcrypt.GenerateFromPassword([]byte(benchPassword), bcrypt.MinCost)
		if _, err := d.CreateUser(ctx, db.User{Email: benchEmail, Name: "Bench Admin", Role: db.RoleAdmin, PasswordHash: string(hash)}); err != nil {
			benchSeed.err = err
			return
		}
		if _, err := d.W.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			benchSeed.err = err
			return
		}
		fmt.Fprintf(os.Stderr, "bench: seeded in %s\n", time.Since(start).Round(time.Second))
		benchSeed.path, benchSeed.now = path, now
		benchSeed.err = os.WriteFile(stamp, []byte(now.Format(time.RFC3339Nano)), 0o644)
	})
	if benchSeed.err != nil {
		b.Fatal(benchSeed.err)
	}
	return benchSeed.path, benchSeed.now
}

// benchServer opens the server over path with a signed-in admin's cookie.
func benchServer(b *testing.B, path string) (*Server, http.Handler, []*http.Cookie) {
	ctx := context.Background()
	d, err := db.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, _ := newServer(b, Config{BaseURL: "http://127.0.0.1:1", WebhookSecrets: []string{"wbhsec_bench"}, LoginLimit: 1000}, d, inquiry.Settings{}, log, wiring{})
	h := srv.Handler()
	form := url.Values{"email": {benchEmail}, "password": {benchPassword}}
	req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		b.Fatalf("bench sign-in: %d", rec.Code)
	}
	return srv, h, rec.Result().Cookies()
}

func get(h http.Handler, cookies []*http.Cookie, path string, hx bool) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	if hx {
		req.Header.Set("HX-Request", "true")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func percentile(ds []time.Duration, p float64) float64 {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[min(len(s)-1, int(float64(len(s))*p))].Microseconds()) / 1000
}

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

// BenchmarkListSearch measures the list's search at a million rows (rendered afresh, counts
// included: with the page when its read found them, else read as its stream reads them) while a stream of signed webhooks (up to 200 a second; the rate reached is printed) completes seeded inquiries and
// renames them as a completed flow does, so the search index changes under the reads.
func BenchmarkListSearch(b *testing.B) {
	src, _ := benchDatabase(b)
	path := filepath.Join(b.TempDir(), "search.db")
	copyFile(b, src, path)
	srv, h, cookies := benchServer(b, path)
	srv.listCache.noPage = true
	for range 3 {
		get(h, cookies, "/inquiries?q=garcia", false)
	}
	secret := srv.cfg.WebhookSecrets[0]
	people := benchPeople(b, srv, 20_000)
	stop := make(chan struct{})
	done := make(chan struct{})
	var sent, ok atomic.Int64
	var refused atomic.Pointer[string] // the first answer that was not 200, to say why
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		rng := rand.New(rand.NewPCG(3, 4))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			body := people[rng.IntN(len(people))].event(fmt.Sprintf("evt_search%d", i), i, time.Now())
			req := httptest.NewRequest("POST", "/webhooks/persona", strings.NewReader(string(body)))
			req.Header.Set("Persona-Signature", persona.SignWebhook(secret, time.Now(), body))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			sent.Add(1)
			if rec.Code == http.StatusOK {
				ok.Add(1)
			} else if refused.Load() == nil {
				msg := fmt.Sprintf("%d %s", rec.Code, strings.TrimSpace(rec.Body.String()))
				refused.Store(&msg)
			}
		}
	}()
	type row struct {
		name             string
		p50, p99         float64 // the page and its counts, one after the other: what a person waits for
		page99, counts99 float64
		rows             int
		total            string
	}
	var summary []row
	start := time.Now()
	for _, search := range [][2]string{
		{"rare surname", "Thorvaldsen"},
		{"common first name", "maria"},
		{"email domain", "acme.example"},
		{"reference-ID fragment", "12345"},
		{"two words", "maria garcia"},
		{"short word start", "ga"},
	} {
		for _, st := range [][2]string{{"", ""}, {", approved", "&status=approved"}, {", pending", "&status=pending"}} {
			name := search[0] + st[0]
			b.Run(name, func(b *testing.B) {
				query := "q=" + url.QueryEscape(search[1]) + st[1]
				path, counts := "/inquiries?"+query, "/inquiries/counts?"+query
				first := get(h, cookies, path, false)
				if first.Code != http.StatusOK {
					b.Fatalf("%s: %d", path, first.Code)
				}
				c := get(h, cookies, counts, true)
				if c.Code != http.StatusOK {
					b.Fatalf("%s: %d", counts, c.Code)
				}
				total := ""
				if m := matchingRe.FindStringSubmatch(c.Body.String()); m != nil {
					total = m[1]
				}
				var ds, pds, cds []time.Duration
				for b.Loop() {
					t := time.Now()
					rec := get(h, cookies, path, false)
					if rec.Code != http.StatusOK {
						b.Fatalf("%s: %d", path, rec.Code)
					}
					mid := time.Now()
					// A page without its counts gets them from its stream, which reads them as
					// the counts request does.
					if strings.Contains(rec.Body.String(), "Counting…") {
						if rec := get(h, cookies, counts, true); rec.Code != http.StatusOK {
							b.Fatalf("%s: %d", counts, rec.Code)
						}
					}
					end := time.Now()
					ds, pds, cds = append(ds, end.Sub(t)), append(pds, mid.Sub(t)), append(cds, end.Sub(mid))
				}
				r := row{name, percentile(ds, 0.5), percentile(ds, 0.99), percentile(pds, 0.99), percentile(cds, 0.99),
					strings.Count(first.Body.String(), "<tr") - 1, total}
				b.ReportMetric(r.p50, "p50-ms")
				b.ReportMetric(r.p99, "p99-ms")
				summary = append(summary, r)
			})
		}
	}
	close(stop)
	<-done
	elapsed := time.Since(start)
	fmt.Fprintf(os.Stdout, "\nSearch at %d rows under %d webhooks (%.0f/s, %d answered 200), full page and its counts through the route table:\n",
		benchRows, sent.Load(), float64(sent.Load())/elapsed.Seconds(), ok.Load())
	if m := refused.Load(); m != nil {
		fmt.Fprintf(os.Stdout, "  first webhook not answered 200: %s\n", *m)
	}
	fmt.Fprintf(os.Stdout, "  %-32s %8s %8s %9s %9s %6s %9s\n", "search", "p50 ms", "p99 ms", "page p99", "count p99", "rows", "matching")
	for _, r := range summary {
		fmt.Fprintf(os.Stdout, "  %-32s %8.2f %8.2f %9.2f %9.2f %6d %9s\n", r.name, r.p50, r.p99, r.page99, r.counts99, r.rows, r.total)
	}
}

// benchPerson is a seeded inquiry as Persona's events describe it.
type benchPerson struct {
	id, ref, first, last, email, template string
	created                               time.Time
}

// benchPeople reads n seeded inquiries at random, for webhook events that carry what Persona's
// do: the inquiry's own reference ID, email and name.
func benchPeople(b *testing.B, srv *Server, n int) []benchPerson {
	rng := rand.New(rand.NewPCG(5, 6))
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("inq_seed%021d", 1+rng.IntN(benchRows))
	}
	list, _ := json.Marshal(ids)
	rows, err := srv.db.R.Query(`SELECT id, reference_id, fields ->> '$.name-first', fields ->> '$.name-last', email, template_id,
		created_at FROM inquiries WHERE id IN (SELECT value FROM json_each(?))`, string(list))
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var out []benchPerson
	for rows.Next() {
		var p benchPerson
		var created int64
		if err := rows.Scan(&p.id, &p.ref, &p.first, &p.last, &p.email, &p.template, &created); err != nil {
			b.Fatal(err)
		}
		p.created = time.UnixMilli(created)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil || len(out) == 0 {
		b.Fatalf("bench people: %d read, %v", len(out), err)
	}
	return out
}

// event is a signed-webhook body completing the inquiry, as the stream before carried; every
// fourth carries a name read from the ID ("Ada B Lovelace" for "Ada Lovelace"), which the
// console keeps beside the typed name and so re-indexes for search.
func (p benchPerson) event(evtID string, i int, at time.Time) []byte {
	status, middle := "completed", ""
	if i%4 == 0 {
		middle = "B"
	}
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	doc := map[string]any{"data": map[string]any{
		"type": "event", "id": evtID,
		"attributes": map[string]any{"name": "inquiry." + status, "created-at": ts(at), "payload": map[string]any{
			"data": map[string]any{
				"type": "inquiry", "id": p.id,
				"attributes": map[string]any{
					"status": status, "reference-id": p.ref, "created-at": ts(p.created), "updated-at": ts(at),
					"name-first": p.first, "name-middle": middle, "name-last": p.last, "email-address": p.email,
					"fields": map[string]any{},
				},
				"relationships": map[string]any{"inquiry-template": map[string]any{"data": map[string]any{"type": "inquiry-template", "id": p.template}}},
			},
			"included": []any{},
		}},
	}}
	body, _ := json.Marshal(doc)
	return body
}

// matchingRe finds the total of a counts answer ("<strong>1,234</strong> matching").
var matchingRe = regexp.MustCompile(`<strong>([^<]*)</strong> matching`)

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

// discard is a ResponseWriter that counts bytes and can flush, for the export's throughput.
type discard struct {
	h http.Header
	n int64
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Flush()                      {}

func BenchmarkExportCSV(b *testing.B) {
	path, _ := benchDatabase(b)
	_, h, cookies := benchServer(b, path)
	for _, c := range [][2]string{{"all 1M", ""}, {"status expired", "status=expired"}} {
		b.Run(c[0], func(b *testing.B) {
			var rows, bytes int64
			start := time.Now()
			for b.Loop() {
				req := httptest.NewRequest("GET", "/inquiries/export?"+c[1], nil)
				for _, ck := range cookies {
					req.AddCookie(ck)
				}
				w := &discard{h: http.Header{}}
				h.ServeHTTP(w, req)
				bytes += w.n
				var n int
				if c[1] == "" {
					n = benchRows
				} else {
					n = 1 // counted below
				}
				rows += int64(n)
			}
			elapsed := time.Since(start).Seconds()
			if c[1] != "" {
				d, _ := db.Open(context.Background(), path)
				var n int64
				d.R.QueryRow("SELECT count(*) FROM inquiries WHERE status = 'expired'").Scan(&n)
				d.Close()
				rows = n * int64(b.N)
			}
			b.ReportMetric(float64(rows)/elapsed, "rows/s")
			b.ReportMetric(float64(bytes)/elapsed/1e6, "MB/s")
			fmt.Fprintf(os.Stdout, "\nCSV export, %s: %.0f rows/s, %.1f MB/s\n", c[0], float64(rows)/elapsed, float64(bytes)/elapsed/1e6)
		})
	}
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

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

func copyFile(b *testing.B, src, dst string) {
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}
