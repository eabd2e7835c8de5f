package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/internal/csvsafe"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/views"
)

// knownStatuses are offered in the Status filter, in lifecycle order.
var knownStatuses = model.Strings(model.Statuses)

// maxStatuses bounds the statuses one filter may name.
const maxStatuses = 16

// webhookSilence is how long without any webhook, while inquiries are open, before the list
// warns that statuses may lag.
const webhookSilence = 6 * time.Hour

// listRequest is the list's filter as read from the URL: the form echo, the query, and the
// canonical query string (cursors left out) that links, counts, export and the stream reuse.
type listRequest struct {
	echo  views.ListFilter
	f     db.ListFilter
	query url.Values
}

// defaultExpiringWindow is "Expiring soon" when Config.ExpiringWindow is unset: a few hours,
// what a team can still act on today (links live for days, so 24 h matched nearly every open one).
const defaultExpiringWindow = 4 * time.Hour

func parseList(r *http.Request, now time.Time, window time.Duration) listRequest {
	in := r.URL.Query()
	lr := listRequest{query: url.Values{}, echo: views.ListFilter{Errors: map[string]string{}, Window: views.Span(window)}}
	lr.f.Now = now
	set := func(k, v string) {
		if v != "" {
			lr.query.Set(k, v)
		}
	}
	for i, st := range in["status"] {
		if i == maxStatuses {
			break // each status is a walk of its own: a crafted URL must not ask for thousands
		}
		st = strings.TrimSpace(st)
		if st != "" && len(st) <= 40 && !lr.echo.HasStatus(st) {
			lr.echo.Statuses = append(lr.echo.Statuses, st)
			lr.query.Add("status", st)
		}
	}
	lr.f.Statuses = lr.echo.Statuses
	if q := cleanSearch(in.Get("q")); len(q) <= maxSearch {
		lr.echo.Search, lr.f.Search = q, q
		set("q", q)
	} else {
		lr.echo.Search, lr.echo.Errors["q"] = q, "The search is longer than 200 characters, so it was not applied: shorten it."
	}
	if t := strings.TrimSpace(in.Get("template")); t != "" {
		lr.echo.Template, lr.f.TemplateID = t, t
		set("template", t)
	}
	if by := in.Get("created_by"); by != "" {
		if n, err := strconv.ParseInt(by, 10, 64); err == nil && n > 0 {
			lr.echo.CreatedBy, lr.f.CreatedBy = by, n
			set("created_by", by)
		}
	}
	if n, err := strconv.ParseInt(in.Get("batch"), 10, 64); err == nil && n > 0 {
		lr.echo.Batch, lr.f.Batch = in.Get("batch"), n
		set("batch", lr.echo.Batch)
	}
	day := func(field string) time.Time {
		v := strings.TrimSpace(in.Get(field))
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			lr.echo.Errors[field] = "Enter a date like 2025-01-31."
			return time.Time{}
		}
		set(field, v)
		return t
	}
	lr.echo.From, lr.echo.To = strings.TrimSpace(in.Get("from")), strings.TrimSpace(in.Get("to"))
	from, to := day("from"), day("to")
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		lr.echo.Errors["to"] = "The end date is before the start date."
		to = time.Time{}
		lr.query.Del("to")
	}
	lr.f.CreatedFrom = from
	if !to.IsZero() {
		lr.f.CreatedTo = to.AddDate(0, 0, 1) // the whole day
	}
	if n, err := strconv.ParseInt(in.Get("assigned_to"), 10, 64); err == nil && n > 0 {
		lr.echo.Assigned, lr.f.AssignedTo = in.Get("assigned_to"), n
		set("assigned_to", lr.echo.Assigned)
	}
	if t := strings.TrimSpace(in.Get("tag")); t != "" && len(t) <= 64 {
		lr.echo.Tag, lr.f.Tag = t, t
		set("tag", t)
	}
	if in.Get("expiring") != "" {
		lr.echo.Expiring = true
		lr.f.ExpiringBefore = now.Add(window)
		set("expiring", "1")
	}
	if in.Get("sort") == db.SortUpdated {
		lr.echo.Sort, lr.f.Sort = db.SortUpdated, db.SortUpdated
		set("sort", db.SortUpdated)
	}
	lr.f.After, lr.f.Before = db.ParseCursor(in.Get("after")), db.ParseCursor(in.Get("before"))
	if !lr.f.After.IsZero() {
		lr.f.Before = db.Cursor{}
	}
	return lr
}

func (s *Server) expiringWindow() time.Duration {
	if s.cfg.ExpiringWindow > 0 {
		return s.cfg.ExpiringWindow
	}
	return defaultExpiringWindow
}

func listURL(query url.Values, extra ...string) string {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			q.Set(extra[i], extra[i+1])
		}
	}
	if len(q) == 0 {
		return "/inquiries"
	}
	return "/inquiries?" + q.Encode()
}

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

// listCache keeps what the list page would otherwise rebuild on every view: the filter's
// options (templates, staff) for a few seconds, and rendered pages until any inquiry changes.
type listCache struct {
	mu      sync.Mutex
	version func() uint64 // the live hub's count of changes to inquiries (webhook, refresh, sync, staff action)
	optAt   time.Time
	tmpls   []views.Option
	staff   []views.Option
	pages   map[string]cachedPage
	noPage  bool // benchmarks measure the work itself
}

type cachedPage struct {
	gen  uint64
	at   time.Time
	body []byte
	gz   []byte // body gzipped, once a client that accepts it asked
}

const (
	optionsTTL = 10 * time.Second
	// pageTTL bounds what a page can miss that no change notice covers (a staff member or
	// template renamed); relative times are covered by keying on the minute.
	pageTTL  = 30 * time.Second
	maxPages = 64
)

func (c *listCache) page(key string) ([]byte, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.pages[key]
	gen := c.version()
	if !ok || c.noPage || p.gen != gen || time.Since(p.at) > pageTTL {
		return nil, gen, false
	}
	return p.body, gen, true
}

func (c *listCache) store(key string, gen uint64, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.noPage || gen != c.version() {
		return
	}
	if c.pages == nil || len(c.pages) >= maxPages {
		c.pages = map[string]cachedPage{}
	}
	c.pages[key] = cachedPage{gen: gen, at: time.Now(), body: body}
}

// write sends a cached page, compressed once for all the clients that accept gzip.
func (c *listCache) write(w http.ResponseWriter, r *http.Request, key string, body []byte) {
	if !acceptsGzip(r) {
		writeHTML(w, body)
		return
	}
	c.mu.Lock()
	gz := c.pages[key].gz
	c.mu.Unlock()
	if gz == nil {
		gz = gzipBytes(body)
		c.mu.Lock()
		if p, ok := c.pages[key]; ok && len(body) > 0 && &p.body[0] == &body[0] { // still the page compressed
			p.gz = gz
			c.pages[key] = p
		}
		c.mu.Unlock()
	}
	w.Header().Set("Content-Encoding", "gzip") // compress passes it on as it is
	writeHTML(w, gz)
}

// listOptions returns the Template and Created by choices.
func (s *Server) listOptions(r *http.Request) (tmpls, staff []views.Option, err error) {
	c := &s.listCache
	c.mu.Lock()
	if time.Since(c.optAt) < optionsTTL {
		tmpls, staff = c.tmpls, c.staff
		c.mu.Unlock()
		return tmpls, staff, nil
	}
	c.mu.Unlock()
	if tmpls, _, err = s.templateOptions(r); err != nil {
		return nil, nil, err
	}
	users, err := s.db.ListUsers(r.Context())
	if err != nil {
		return nil, nil, err
	}
	for _, u := range users {
		staff = append(staff, views.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Name})
	}
	c.mu.Lock()
	c.tmpls, c.staff, c.optAt = tmpls, staff, time.Now()
	c.mu.Unlock()
	return tmpls, staff, nil
}

func (s *Server) inquiryList(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	lr := parseList(r, now, s.expiringWindow())
	p := s.page(r, "Inquiries", "inquiries")
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
		if !contains(knownStatuses, st) {
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
	nav, err := s.quickNavView(r, lr)
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
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		s.serverError(w, r, err)
		return
	}
	if p.Flash == "" {
		s.listCache.store(key, gen, buf.Bytes())
	}
	writeHTML(w, buf.Bytes())
}

// quickFilters are the one-click filters a team triages with every day; one is marked current
// when the list shows exactly it.
func quickFilters(current url.Values, me int64, window time.Duration) []views.QuickFilter {
	cur := current.Encode()
	out := []views.QuickFilter{
		{Label: "Created by me", URL: "created_by=" + strconv.FormatInt(me, 10), Title: "Inquiries you created"},
		{Label: "Needs review", URL: "status=needs_review", Title: "Persona asks a person to review these"},
		{Label: "Started, not finished", URL: "status=pending", Title: "The person began the flow and stopped"},
		{Label: "Expiring soon", URL: "expiring=1", Title: "Open, and the link expires within " + views.Span(window)},
	}
	for i := range out {
		out[i].Active = cur == out[i].URL
		out[i].URL = "/inquiries?" + out[i].URL
	}
	return out
}

// filterSummary is the filter in one line of parts, for the folded filter panel.
func filterSummary(f views.ListFilter, tmpls, staff []views.Option) []string {
	var out []string
	label := func(opts []views.Option, v string) string {
		for _, o := range opts {
			if o.Value == v {
				return o.Label
			}
		}
		return v
	}
	if len(f.Statuses) > 0 {
		names := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			names[i] = views.StatusText(st)
		}
		out = append(out, "Status: "+strings.Join(names, ", "))
	}
	if f.Template != "" {
		out = append(out, "Template: "+label(tmpls, f.Template))
	}
	if f.CreatedBy != "" {
		out = append(out, "Created by: "+label(staff, f.CreatedBy))
	}
	if f.Assigned != "" {
		out = append(out, "Assigned to: "+label(staff, f.Assigned))
	}
	if f.Tag != "" {
		out = append(out, "Tag: "+f.Tag)
	}
	switch from, to := f.From, f.To; {
	case f.Errors["from"] != "" || f.Errors["to"] != "":
	case from != "" && to != "":
		out = append(out, "Created: "+from+" to "+to)
	case from != "":
		out = append(out, "Created from "+from)
	case to != "":
		out = append(out, "Created to "+to)
	}
	if f.Expiring {
		out = append(out, "Link expires within "+f.Window)
	}
	if f.Sort == db.SortUpdated {
		out = append(out, "Recently updated first")
	}
	return out
}

// writeHTML answers a rendered page as render does.
func writeHTML(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Add("Vary", "HX-Request")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
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
			s.log.WarnContext(r.Context(), "last webhook", "err", err)
			return out
		}
		if now.Sub(last) > webhookSilence {
			out = append(out, views.WebhookSilenceNotice(last, now, open))
		}
	}
	return out
}

// listCounts answers the per-status summary that the list loads after its rows.
func (s *Server) listCounts(w http.ResponseWriter, r *http.Request) {
	v, err := s.countsView(r.Context(), parseList(r, time.Now(), s.expiringWindow()))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.ListCounts(v), nil)
}

// countsView counts the filter's inquiries per status; the counts request and the live stream
// (which sends it again as inquiries change) share it.
func (s *Server) countsView(ctx context.Context, lr listRequest) (views.CountsView, error) {
	c, err := s.lister.Counts(ctx, lr.f)
	if err != nil {
		return views.CountsView{}, err
	}
	return countsViewOf(lr, c), nil
}

// countsViewOf shows counts read for lr's filter.
func countsViewOf(lr listRequest, c *db.StatusCounts) views.CountsView {
	// Capped counts are of the first rows read, not a sample of all: a status none of them had
	// may still have many, so it is "not counted" rather than "0+".
	num := func(n int64) string {
		switch {
		case !c.Capped:
			return views.Thousands(n)
		case n == 0:
			return "not counted"
		}
		return views.Thousands(n) + "+"
	}
	v := views.CountsView{Total: num(c.Total(lr.f.Statuses))}
	if v.Total == "not counted" {
		v.Total = "" // the note says why there is no total
	}
	if c.Capped {
		v.Note = "Counting stopped at the first " + views.Thousands(c.Total(nil)) + " matches; narrow the search or the filters for exact numbers."
	}
	statuses := append([]string{}, knownStatuses...)
	for st := range c.N {
		if !contains(statuses, st) {
			statuses = append(statuses, st)
		}
	}
	for _, st := range statuses {
		n, ok := c.N[st]
		if !ok && !contains(lr.f.Statuses, st) {
			continue
		}
		q := url.Values{}
		for k, vs := range lr.query {
			if k != "status" {
				q[k] = vs
			}
		}
		q.Set("status", st)
		v.Items = append(v.Items, views.StatusCount{Status: st, Label: views.StatusText(st), N: num(n),
			URL: "/inquiries?" + q.Encode(), Active: len(lr.f.Statuses) == 1 && lr.f.Statuses[0] == st})
	}
	return v
}

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
		if err != nil && s.clientGone(r, err) {
			return
		}
		if err != nil {
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
			s.log.Error("csv export failed midway", "rows", rows, "err", err)
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
