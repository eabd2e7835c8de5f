package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
)

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
