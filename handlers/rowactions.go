package handlers

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/casework"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/views"
)

// rowActionsView fills what the list's actions on selected rows need.
func (s *Server) rowActionsView(r *http.Request, v *views.ListView) error {
	u := currentUser(r)
	v.CanExpire = casework.MayExpire(u.Role)
	if !casework.MayWork(u.Role) {
		return nil
	}
	var err error
	v.Workers, err = s.workers(r)
	return err
}

var rowVerbs = map[string][2]string{
	casework.ActFreshLink: {"Send a fresh link", "Confirm and send"},
	casework.ActExpire:    {"Expire inquiries", "Confirm and expire"},
	casework.ActAssign:    {"Assign inquiries", "Confirm and assign"},
	casework.ActTag:       {"Add a tag", "Confirm and add tag"},
}

// rowsAction answers the list's actions on selected rows: "Export selected" downloads them at
// once; the others show what would be done, to be confirmed.
func (s *Server) rowsAction(w http.ResponseWriter, r *http.Request) {
	ids := r.PostForm["id"]
	action := r.PostFormValue("action")
	if action == "export" {
		s.exportSelected(w, r, ids)
		return
	}
	tag := r.PostFormValue("tag")
	plan, err := s.cases.Plan(r.Context(), actor(r), action, ids, tag)
	if p := casework.ProblemOf(err); p != nil {
		s.errorPage(w, r, http.StatusUnprocessableEntity, "Nothing was done", p.Words)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	sum := views.RowsSummary{Action: action, Heading: rowVerbs[action][0], Verb: rowVerbs[action][1],
		Summary: casework.Summary(action, plan), Key: inquiry.NewKey(), Back: "/inquiries", Nothing: true}
	if action == casework.ActAssign {
		uid, _ := strconv.ParseInt(r.PostFormValue("assign_to"), 10, 64)
		sum.AssignTo = strconv.FormatInt(uid, 10)
		sum.Heading = "Assign inquiries to " + s.staffName(r, uid)
	}
	if action == casework.ActTag {
		sum.Tag = strings.TrimSpace(tag)
		sum.Heading = "Add the tag “" + sum.Tag + "”"
	}
	for _, p := range plan {
		it := views.RowsItem{ID: p.ID, Label: p.Label, OK: p.OK, Outcome: "Will be done."}
		if !p.OK {
			it.Outcome = "Cannot: " + p.Why + "."
		} else {
			sum.Nothing = false
		}
		sum.Items = append(sum.Items, it)
	}
	s.render(w, r, http.StatusOK, views.RowsSummaryPage(s.page(r, sum.Heading, "inquiries"), sum), nil)
}

func (s *Server) staffName(r *http.Request, id int64) string {
	if id == 0 {
		return "nobody"
	}
	if u, err := s.db.UserByID(r.Context(), id); err == nil {
		return u.Name
	}
	return "staff #" + strconv.FormatInt(id, 10)
}

// rowsConfirm does a confirmed action on the selected rows and says what it did to each.
func (s *Server) rowsConfirm(w http.ResponseWriter, r *http.Request) {
	action := r.PostFormValue("action")
	uid, _ := strconv.ParseInt(r.PostFormValue("assign_to"), 10, 64)
	out, err := s.cases.Run(r.Context(), actor(r), action, r.PostFormValue("key"), r.PostForm["id"], uid, r.PostFormValue("tag"))
	if p := casework.ProblemOf(err); p != nil {
		s.errorPage(w, r, http.StatusUnprocessableEntity, "Nothing was done", p.Words)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	res := views.RowsResult{Heading: rowVerbs[action][0], Back: "/inquiries"}
	done := 0
	for _, o := range out {
		if o.OK {
			done++
		}
		res.Items = append(res.Items, views.RowsItem{ID: o.ID, Label: o.Label, OK: o.OK, Outcome: o.Words})
	}
	res.Summary = fmt.Sprintf("Done for %d of %d.", done, len(out))
	if action == casework.ActFreshLink {
		res.Summary = fmt.Sprintf("%d of %d fresh links queued in the outbox.", done, len(out))
	}
	s.render(w, r, http.StatusOK, views.RowsResultPage(s.page(r, res.Heading, "inquiries"), res), nil)
}

// exportSelected downloads the selected rows with the columns of "Export CSV".
func (s *Server) exportSelected(w http.ResponseWriter, r *http.Request, ids []string) {
	if len(ids) == 0 || len(ids) > db.MaxListLimit {
		s.errorPage(w, r, http.StatusUnprocessableEntity, "Nothing to export", "Select the inquiries to export first: tick the boxes at the start of the rows.")
		return
	}
	rows, err := s.db.ListRowsByID(r.Context(), ids)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="inquiries-selected-`+time.Now().UTC().Format("2006-01-02")+`.csv"`)
	h.Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	writeCSV(cw, exportHeader...)
	if err := s.exportRows(r.Context(), cw, rows); err != nil {
		// Only the header is written, into the writer's buffer: the answer can still be a page.
		h.Del("Content-Disposition")
		s.serverError(w, r, err)
		return
	}
	cw.Flush()
}
