package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/persona"
)

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
		var inFlight sync.WaitGroup
		defer inFlight.Wait()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			// Each delivery on its own, as Persona sends them: none waits for the one before.
			body := people[rng.IntN(len(people))].event(fmt.Sprintf("evt_search%d", i), i, time.Now())
			inFlight.Go(func() {
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
			})
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
					// the counts request does. (Bytes, not a string: a copy of every page would
					// be the bench's own garbage, measured as the console's.)
					if bytes.Contains(rec.Body.Bytes(), counting) {
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

var counting = []byte("Counting…")

// matchingRe finds the total of a counts answer ("<strong>1,234</strong> matching").
var matchingRe = regexp.MustCompile(`<strong>([^<]*)</strong> matching`)
