package handlers

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/internal/csvsafe"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/views"
)

// withCase adds to list rows what the list shows of their case: the assignee, the tags, and a
// mark on an open inquiry whose link expires within the triage window. One read per page.
func (s *Server) withCase(ctx context.Context, rows []db.ListRow, vs []views.ListRow) error {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	cases, err := s.db.RowCases(ctx, ids)
	if err != nil {
		return err
	}
	now, window := time.Now(), s.expiringWindow()
	for i, r := range rows {
		c := cases[r.ID]
		vs[i].Assignee, vs[i].Tags = c.Assignee, c.Tags
		vs[i].ExpiringSoon = model.Status(r.Status).PersonHasWork() && !r.ExpiresAt.IsZero() &&
			r.ExpiresAt.After(now) && r.ExpiresAt.Before(now.Add(window))
	}
	return nil
}

// caseRowView is rowView with the row's case.
func (s *Server) caseRowView(ctx context.Context, row db.ListRow) views.ListRow {
	vs := []views.ListRow{rowView(row, time.Now())}
	if err := s.withCase(ctx, []db.ListRow{row}, vs); err != nil && ctx.Err() == nil { // a closed stream reads no row
		s.log.WarnContext(ctx, "list row: case", "inquiry", row.ID, "err", err)
	}
	return vs[0]
}

// exportHeader and exportRows are the CSV export's columns, shared by "Export CSV" (every row
// of the filter) and "Export selected".
var exportHeader = []string{csvsafe.BOM + "inquiry_id", "reference_id", "status", "name", "email", "template", "template_id",
	"created_at", "updated_at", "expires_at", "last_email_state", "created_by", "synced_at", "assigned_to", "tags"}

func (s *Server) exportRows(ctx context.Context, cw *csv.Writer, rows []db.ListRow) error {
	ids := make([]string, len(rows))
	for i, q := range rows {
		ids[i] = q.ID
	}
	cases, err := s.db.RowCases(ctx, ids)
	if err != nil {
		return err
	}
	for _, q := range rows {
		c := cases[q.ID]
		writeCSV(cw, q.ID, q.ReferenceID, q.Status, q.Name, q.Email, q.TemplateName, q.TemplateID,
			csvTime(q.CreatedAt), csvTime(q.UpdatedAt), csvTime(q.ExpiresAt), q.EmailState, q.CreatedByName, csvTime(q.SyncedAt),
			c.Assignee, strings.Join(c.Tags, ", "))
	}
	return nil
}

// assignedQuick is the "Assigned to me" quick filter with its count.
func assignedQuick(current string, me int64, count int) views.QuickFilter {
	url := "assigned_to=" + strconv.FormatInt(me, 10)
	return views.QuickFilter{Label: "Assigned to me", URL: "/inquiries?" + url, Title: "Inquiries assigned to you",
		Active: current == url, Count: strconv.Itoa(count)}
}

// quickCounts fills the "Expiring soon" quick filter's count (a capped count kept a few
// seconds by the Lister).
func (s *Server) quickCounts(r *http.Request, qs []views.QuickFilter) {
	for i := range qs {
		if qs[i].Label != "Expiring soon" {
			continue
		}
		now := time.Now()
		c, err := s.lister.Counts(r.Context(), db.ListFilter{Now: now, ExpiringBefore: now.Add(s.expiringWindow())})
		if err != nil {
			if !s.clientGone(r, err) {
				s.log.WarnContext(r.Context(), "expiring soon count", "err", err)
			}
			continue
		}
		n := strconv.FormatInt(c.Total(nil), 10)
		if c.Capped {
			n += "+"
		}
		qs[i].Count = n
	}
}
