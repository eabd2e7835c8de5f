package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/views"
)

// webhookSilence is how long without any webhook, while inquiries are open, before the list
// warns that statuses may lag.
const webhookSilence = 6 * time.Hour

// rowView turns a cached row into what the list shows.
func rowView(r db.ListRow, now time.Time) views.ListRow {
	v := views.ListRow{
		ID: r.ID, ReferenceID: r.ReferenceID, Name: r.Name, Email: r.Email, Template: r.TemplateName,
		Status: r.Status, Created: r.CreatedAt, EmailState: r.EmailState, CreatedBy: r.CreatedByName,
		Synced: "synced " + views.Ago(r.SyncedAt, now), Expiry: "—",
	}
	if v.Template == "" {
		v.Template = r.TemplateID
	}
	if r.CreatedBy != 0 && v.CreatedBy == "" {
		v.CreatedBy = "staff #" + strconv.FormatInt(r.CreatedBy, 10)
	}
	if e := views.LinkExpiry(model.Status(r.Status), r.ExpiresAt, now); e != "" {
		v.Expiry = e
	}
	return v
}

func (s *Server) inquiryList(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	lr := parseList(r, now, s.expiringWindow())
	p := s.layout(r, "Inquiries", "inquiries")
	s.takeFlash(w, r, &p)
	u := currentUser(r)
	frag := isFragment(r)
	if frag {
		// The form sends empty fields too; the address bar gets the tidy form.
		w.Header().Set("HX-Push-Url", listURL(lr.query, "after", lr.f.After.String(), "before", lr.f.Before.String()))
	}
	sync := s.inq.SyncStatus()
	// A page is reused while nothing changed: same person (the layout names them), same
	// address, same minute (relative times), same Persona state.
	key := fmt.Sprintf("%t|%d|%s|%s|%s|%d|%d", frag, u.ID, r.URL.RawQuery, u.Role, p.Env, now.Unix()/60, sync.FailingSince.Unix())
	var gen uint64
	if p.Flash == "" {
		var body []byte
		var ok bool
		if body, gen, ok = s.listCache.page(key); ok {
			s.listCache.write(w, r, key, body)
			return
		}
	}

	p.Assigned = s.assignedCount(r, u.ID)
	page, err := s.lister.List(r.Context(), lr.f)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if lr.f.Batch != 0 {
		lr.echo.BatchName = "job " + lr.echo.Batch
		if j, err := s.db.GetBulkJob(r.Context(), lr.f.Batch); err == nil {
			lr.echo.BatchName = j.Name
		}
	}
	v := views.ListView{
		Filter: lr.echo, Query: lr.query.Encode(), Since: now.UnixMilli(),
		FirstPage: lr.f.After.IsZero() && lr.f.Before.IsZero(),
		CanCreate: roleAccess(u.Role) >= Agent,
		Rows:      make([]views.ListRow, len(page.Rows)),
	}
	for i, row := range page.Rows {
		v.Rows[i] = rowView(row, now)
	}
	if err := s.withCase(r.Context(), page.Rows, v.Rows); err != nil {
		s.serverError(w, r, err)
		return
	}
	if !page.Older.IsZero() {
		v.OlderURL = listURL(lr.query, "after", page.Older.String())
	}
	if !page.Newer.IsZero() {
		v.NewerURL = listURL(lr.query, "before", page.Newer.String())
	}
	counts, err := s.lister.Counts(r.Context(), db.ListFilter{})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	// The page shows its counts when its read found them or they cost nothing (the counts
	// table); else its stream sends them as it opens.
	if page.Counts == nil && lr.f.Search == "" && lr.f.CreatedFrom.IsZero() && lr.f.CreatedTo.IsZero() && lr.f.ExpiringBefore.IsZero() && lr.f.Batch == 0 {
		if page.Counts, err = s.lister.Counts(r.Context(), lr.f); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	if page.Counts != nil {
		cv := countsViewOf(lr, page.Counts)
		v.Counts = &cv
	}
	if len(v.Rows) == 0 {
		v.Empty = "filtered"
		if counts.Total(nil) == 0 {
			v.Empty = "none"
		}
	}
	v.Notices = s.listNotices(r, sync, counts, now)
	if e := lr.echo.Errors["q"]; e != "" {
		v.Notices = append(v.Notices, e)
	}
	for _, st := range knownStatuses {
		v.Statuses = append(v.Statuses, views.Option{Value: st, Label: views.StatusText(st)})
	}
	for _, st := range lr.f.Statuses {
		if !slices.Contains(knownStatuses, st) {
			v.Statuses = append(v.Statuses, views.Option{Value: st, Label: views.StatusText(st)})
		}
	}
	if v.Templates, v.Staff, err = s.listOptions(r); err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.rowActionsView(r, &v); err != nil {
		s.serverError(w, r, err)
		return
	}
	nav, err := s.quickNavView(r, lr, p.Assigned)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	v.Quick, v.SavedViews = nav.Quick, nav.SavedViews
	v.Summary = filterSummary(lr.echo, v.Templates, v.Staff)
	c := views.ListPage(p, v)
	if frag {
		c = templ.Join(views.ListResults(v), views.ListFilterSummaryOOB(v), views.SaveViewQueryOOB(v.Query))
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if err := c.Render(r.Context(), buf); err != nil {
		s.serverError(w, r, err)
		return
	}
	if p.Flash == "" {
		s.listCache.store(key, gen, buf.Bytes())
	}
	writePage(w, http.StatusOK, buf.Bytes())
}

// listNotices warns when the list may be behind: Persona unreachable, or no webhook for long
// while inquiries are open.
func (s *Server) listNotices(r *http.Request, st inquiry.SyncStatus, all *db.StatusCounts, now time.Time) []string {
	var out []string
	if !st.FailingSince.IsZero() {
		out = append(out, views.PersonaUnreachableNotice(st.FailingSince, now, st.LastError))
	}
	if open := all.Total(db.PersonWorkStatuses); open > 0 {
		last, err := s.db.LastWebhookAt(r.Context())
		if err != nil {
			if !s.clientGone(r, err) {
				s.log.WarnContext(r.Context(), "last webhook", "err", err)
			}
			return out
		}
		if now.Sub(last) > webhookSilence {
			out = append(out, views.WebhookSilenceNotice(last, now, open))
		}
	}
	return out
}

// refreshRow fetches one inquiry from Persona and answers its list row, for "Refresh status".
func (s *Server) refreshRow(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !isFragment(r) {
		http.Redirect(w, r, "/inquiries/"+url.PathEscape(id), http.StatusSeeOther)
		return
	}
	_, rerr := s.inq.StaffRefresh(r.Context(), actor(r), id)
	row, err := s.db.ListRowByID(r.Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	v := s.caseRowView(r.Context(), *row)
	if rerr != nil {
		s.log.WarnContext(r.Context(), "refresh from the list failed", "inquiry", id, "err", rerr)
		switch {
		case errors.Is(rerr, inquiry.ErrNotConfigured):
			v.Error = rerr.Error() + "."
		case inquiry.ProblemOf(rerr) != nil:
			v.Error = inquiry.ProblemOf(rerr).Words
		default:
			v.Error = "Could not refresh. Try again in a moment."
		}
	}
	s.render(w, r, http.StatusOK, views.ListRowCells(v), views.ListRowCells(v))
}
