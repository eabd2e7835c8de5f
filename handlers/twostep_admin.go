package handlers

import (
	"net/http"
	"strings"
)

// Admins' part of two-step sign-in: requiring it (Settings) and resetting someone's (Staff).

func (s *Server) saveTwoStepSettings(w http.ResponseWriter, r *http.Request) {
	on := r.PostFormValue("required") == "yes"
	if err := s.staff.SetTwoStepRequired(r.Context(), actor(r), on); err != nil {
		s.serverError(w, r, err)
		return
	}
	if on {
		s.flash(w, r, "Two-step sign-in is now required: accounts without it set it up at their next sign-in.")
	} else {
		s.flash(w, r, "Two-step sign-in is no longer required.")
	}
	redirect(w, r, "/settings")
}

func (s *Server) resetTwoStep(w http.ResponseWriter, r *http.Request) {
	u, ok := byPathID(s, w, r, s.db.UserByID)
	if !ok {
		return
	}
	if !u.TwoStepEnabled() {
		s.flash(w, r, u.Name+" has no two-step sign-in to reset.")
		redirect(w, r, "/staff")
		return
	}
	if err := s.staff.ResetTwoStep(r.Context(), actor(r), u); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.flash(w, r, "Reset the two-step sign-in of "+u.Name+": they sign in with their password and set it up again.")
	redirect(w, r, "/staff")
}

// upperFirst capitalises a sentence from an error's text.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
