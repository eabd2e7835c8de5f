package handlers

import (
	"net/http"
	"strconv"

	"github.com/linkdesk/linkdesk/casework"
	"github.com/linkdesk/linkdesk/views"
)

// assignInquiry gives the inquiry to the staff member chosen in "Assigned to" (or, from
// "Take this inquiry", to oneself).
func (s *Server) assignInquiry(w http.ResponseWriter, r *http.Request) {
	q := s.loadInquiry(w, r)
	if q == nil {
		return
	}
	uid, err := strconv.ParseInt(r.PostFormValue("user_id"), 10, 64)
	if err != nil || uid < 0 {
		s.renderCase(w, r, http.StatusUnprocessableEntity, q, func(c *views.CaseView) { c.AssignError = "Choose a staff member from the list." })
		return
	}
	changed, err := s.cases.Assign(r.Context(), actor(r), q.ID, uid)
	if p := casework.ProblemOf(err); p != nil {
		s.renderCase(w, r, http.StatusUnprocessableEntity, q, func(c *views.CaseView) { c.AssignError = p.Words })
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	a, _ := s.db.AssignmentOf(r.Context(), q.ID)
	switch {
	case !changed:
		s.flash(w, r, "Nothing changed: the assignment was already so.")
	case uid == 0:
		s.flash(w, r, "Nobody is assigned to this inquiry now.")
	case uid == currentUser(r).ID:
		s.flash(w, r, "This inquiry is assigned to you.")
	default:
		s.flash(w, r, "Assigned to "+a.UserName+".")
	}
	redirect(w, r, "/inquiries/"+q.ID)
}

// assignedCount is the header's count of inquiries assigned to the signed-in staff member.
func (s *Server) assignedCount(r *http.Request, me int64) int {
	n, err := s.db.AssignedCount(r.Context(), me)
	if err != nil && !s.clientGone(r, err) {
		s.log.WarnContext(r.Context(), "assigned count", "err", err)
	}
	return n
}

// myQueue answers the header's queue link's refetch.
func (s *Server) myQueue(w http.ResponseWriter, r *http.Request) {
	if !isFragment(r) {
		http.Redirect(w, r, "/inquiries?assigned_to="+strconv.FormatInt(currentUser(r).ID, 10), http.StatusSeeOther)
		return
	}
	me := currentUser(r).ID
	c := views.MyQueue(me, s.assignedCount(r, me))
	s.render(w, r, http.StatusOK, c, c)
}
