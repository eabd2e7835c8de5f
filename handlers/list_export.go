package handlers

import (
	"encoding/csv"
	"net/http"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/internal/csvsafe"
)

// writeCSV writes one record with every cell kept from running as a formula.
func writeCSV(cw *csv.Writer, cells ...string) {
	cw.Write(csvsafe.Row(cells...))
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// exportCSV streams every inquiry matching the filter, page by page, flushing as it goes, so a
// large export neither waits nor holds the whole result in memory.
func (s *Server) exportCSV(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	lr := parseList(r, now, s.expiringWindow())
	if len(lr.echo.Errors) > 0 { // exporting without the part not understood would export more than asked
		s.errorPage(w, r, http.StatusUnprocessableEntity, "Nothing exported", "Nothing was exported: "+filterErrors(lr.echo.Errors)+" Fix the filter on the list, then export again.")
		return
	}
	f := lr.f
	f.After, f.Before, f.Limit = db.Cursor{}, db.Cursor{}, db.MaxListLimit
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="inquiries-`+now.UTC().Format("2006-01-02")+`.csv"`)
	h.Set("Cache-Control", "no-store")
	rc := http.NewResponseController(w)
	cw := csv.NewWriter(w)
	// Excel reads a CSV without a byte-order mark in the machine's ANSI code page, turning
	// "María García" into "MarÃ­a GarcÃ­a"; with one, it reads UTF-8. The mark goes through the
	// writer's buffer (not straight to w), so an error before the first page still gets a page.
	writeCSV(cw, exportHeader...)
	rows := 0
	for {
		page, err := s.lister.List(r.Context(), f)
		if err != nil {
			if s.clientGone(r, err) {
				return
			}
			if rows == 0 {
				h.Del("Content-Disposition")
				s.serverError(w, r, err)
				return
			}
			// The header has gone out: cut the download short so it cannot pass for complete.
			s.log.ErrorContext(r.Context(), "csv export failed midway", "rows", rows, "err", err)
			panic(http.ErrAbortHandler)
		}
		if err := s.exportRows(r.Context(), cw, page.Rows); err != nil {
			if s.clientGone(r, err) {
				return
			}
			s.log.ErrorContext(r.Context(), "csv export failed midway", "rows", rows, "err", err)
			panic(http.ErrAbortHandler)
		}
		rows += len(page.Rows)
		cw.Flush()
		if err := cw.Error(); err != nil {
			return // the client went away
		}
		rc.Flush()
		if page.Older.IsZero() {
			return
		}
		f.After = page.Older
	}
}
