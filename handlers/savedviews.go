package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/linkdesk/linkdesk/casework"
	"github.com/linkdesk/linkdesk/views"
)

// savedViewLinks are the views the signed-in staff member sees beside the quick filters, each
// with the count of its inquiries; current is the list's query, to mark the view shown.
func (s *Server) savedViewLinks(r *http.Request, current string) ([]views.SavedViewLink, error) {
	me := actor(r)
	vs, err := s.db.SavedViews(r.Context(), me.ID)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]views.SavedViewLink, 0, len(vs))
	for _, v := range vs {
		l := views.SavedViewLink{ID: v.ID, Name: v.Name, URL: listURL(mustQuery(v.Query)), Active: v.Query == current,
			CanRemove: v.OwnerID == me.ID || roleAccess(me.Role) >= Admin, Title: "Your saved view"}
		if v.OwnerID != me.ID {
			l.Title = "Shared by " + v.OwnerName
		} else if v.Shared {
			l.Title = "Your saved view, shared with the team"
		}
		lr := parseList(&http.Request{URL: &url.URL{RawQuery: v.Query}}, now, s.expiringWindow())
		if c, err := s.lister.Counts(r.Context(), lr.f); err == nil {
			l.Count = strconv.FormatInt(c.Total(lr.f.Statuses), 10)
			if c.Capped {
				l.Count += "+"
			}
		} else if !s.clientGone(r, err) {
			s.log.WarnContext(r.Context(), "saved view count", "view", v.ID, "err", err)
		}
		out = append(out, l)
	}
	return out, nil
}

func mustQuery(q string) url.Values {
	v, _ := url.ParseQuery(q)
	return v
}

// quickNav answers the quick filters' and saved views' refetch as the list changes.
func (s *Server) quickNav(w http.ResponseWriter, r *http.Request) {
	lr := parseList(r, time.Now(), s.expiringWindow())
	if !isFragment(r) {
		http.Redirect(w, r, listURL(lr.query), http.StatusSeeOther)
		return
	}
	v, err := s.quickNavView(r, lr, s.assignedCount(r, currentUser(r).ID))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.QuickNav(v, false), nil)
}

// quickNavView is the quick filters and saved views; assigned is the header's count, which
// the "Assigned to me" filter shows too.
func (s *Server) quickNavView(r *http.Request, lr listRequest, assigned int) (views.ListView, error) {
	u := currentUser(r)
	v := views.ListView{Query: lr.query.Encode()}
	v.Quick = append([]views.QuickFilter{assignedQuick(v.Query, u.ID, assigned)}, quickFilters(lr.query, u.ID, s.expiringWindow())...)
	s.quickCounts(r, v.Quick)
	var err error
	v.SavedViews, err = s.savedViewLinks(r, v.Query)
	return v, err
}

// saveView keeps the list's query under a name: "Save view".
func (s *Server) saveView(w http.ResponseWriter, r *http.Request) {
	// The query is read back through the list's own parser, so only what the list knows is kept.
	lr := parseList(&http.Request{URL: &url.URL{RawQuery: r.PostFormValue("query")}}, time.Now(), s.expiringWindow())
	query := lr.query.Encode()
	in := views.SaveViewInput{Name: r.PostFormValue("name"), Shared: r.PostFormValue("shared") != ""}
	_, err := s.cases.SaveView(r.Context(), actor(r), in.Name, query, in.Shared)
	if p := casework.ProblemOf(err); p != nil {
		in.Error = p.Words
		s.render(w, r, http.StatusUnprocessableEntity, views.SaveViewPage(s.page(r, "Save view", "inquiries"), query, in), views.SaveViewForm(query, in))
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.live.Touch() // cached list pages show the new view
	words := "View “" + in.Name + "” saved"
	if in.Shared {
		words += " and shared with the team"
	}
	if !isFragment(r) {
		s.flash(w, r, words+".")
		redirect(w, r, listURL(lr.query))
		return
	}
	nav, err := s.quickNavView(r, lr, s.assignedCount(r, currentUser(r).ID))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	nav.Query = query
	s.render(w, r, http.StatusOK, nil, views.SaveViewSaved(query, words+".", nav))
}

// deleteView removes a saved view and answers the refreshed quick filters.
func (s *Server) deleteView(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	_, err := s.cases.DeleteView(r.Context(), actor(r), id)
	if p := casework.ProblemOf(err); p != nil {
		s.errorPage(w, r, http.StatusConflict, "View not removed", p.Words)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.live.Touch()
	lr := parseList(&http.Request{URL: &url.URL{RawQuery: r.PostFormValue("query")}}, time.Now(), s.expiringWindow())
	if !isFragment(r) {
		s.flash(w, r, "View removed.")
		redirect(w, r, listURL(lr.query))
		return
	}
	nav, err := s.quickNavView(r, lr, s.assignedCount(r, currentUser(r).ID))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, nil, views.QuickNav(nav, false))
}
