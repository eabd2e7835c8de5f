package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/views"
)

// knownStatuses are offered in the Status filter, in lifecycle order.
var knownStatuses = model.Strings(model.Statuses)

// maxStatuses bounds the statuses one filter may name.
const maxStatuses = 16

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
