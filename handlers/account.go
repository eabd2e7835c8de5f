package handlers

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/linkdesk/linkdesk/casework"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/staff"
	"github.com/linkdesk/linkdesk/views"
)

// "Your account": one's own two-step sign-in, signed-in sessions and password.

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	s.renderAccount(w, r, http.StatusOK, views.Form{})
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, status int, pw views.Form) {
	u := currentUser(r)
	v := views.AccountView{TwoStep: u.TwoStepEnabled(), Password: pw, MaxSessions: s.staff.MaxSessions()}
	var err error
	if v.TwoStep {
		v.RecoveryLeft, err = s.db.RecoveryCodesLeft(r.Context(), u.ID)
	} else {
		v.TwoStepNeeded, err = s.staff.TwoStepRequired(r.Context())
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if v.Assignable = casework.MayWork(u.Role); v.Assignable {
		if v.AssignEmail, err = s.db.AssignEmail(r.Context(), u.ID); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	sessions, err := s.db.UserSessions(r.Context(), u.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	mine := db.SessionKey(s.sessionID(r))
	for _, ss := range sessions {
		v.Sessions = append(v.Sessions, views.SessionRow{Browser: views.BrowserName(ss.UserAgent), UserAgent: ss.UserAgent, IP: ss.IP,
			SignedIn: ss.CreatedAt, LastSeen: ss.LastSeenAt, ThisOne: ss.Key == mine})
	}
	p := s.page(r, "Your account", "account")
	s.takeFlash(w, r, &p)
	s.render(w, r, status, views.AccountPage(p, v), nil)
}

// startTwoStepSetUp makes a new secret and shows it (POST, so a reload of the page that shows
// it does not make another).
func (s *Server) startTwoStepSetUp(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	if u.TwoStepEnabled() {
		s.flash(w, r, "Two-step sign-in is already on.")
		redirect(w, r, "/account")
		return
	}
	if _, err := s.staff.StartTwoStep(r.Context(), u); err != nil {
		s.serverError(w, r, err)
		return
	}
	redirect(w, r, "/account/two-step")
}

func (s *Server) twoStepSetUpPage(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	if u.TwoStepEnabled() {
		redirect(w, r, "/account")
		return
	}
	s.renderSetUp(w, r, http.StatusOK, u, views.Form{}, false)
}

func (s *Server) confirmTwoStepSetUp(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	ip, account := s.clientIP(r), "two-step:"+u.Email
	if wait := s.limiter.blocked(ip, account); wait > 0 {
		s.renderSetUp(w, r, http.StatusTooManyRequests, u, views.Form{Errors: map[string]string{"code": fmt.Sprintf("Too many attempts. Try again in %.0f s.", wait.Seconds()+0.5)}}, false)
		return
	}
	codes, err := s.staff.ConfirmTwoStep(r.Context(), u, r.PostFormValue("code"))
	switch {
	case errors.Is(err, staff.ErrWrongCode):
		s.limiter.fail(ip, account)
		s.renderSetUp(w, r, http.StatusUnprocessableEntity, u, views.Form{Errors: map[string]string{"code": "That code is not right. Enter the 6-digit code your app shows now for Linkdesk."}}, false)
		return
	case errors.Is(err, staff.ErrNoSetUp):
		s.flash(w, r, "That set-up was replaced or finished already; nothing changed.")
		redirect(w, r, "/account")
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	s.limiter.succeeded(account)
	s.render(w, r, http.StatusOK, views.RecoveryCodesPage(s.page(r, "Recovery codes", "account"), views.RecoveryCodesView{Codes: codes, Continue: "/account"}), nil)
}

func (s *Server) endOtherSessions(w http.ResponseWriter, r *http.Request) {
	n, err := s.staff.EndOtherSessions(r.Context(), currentUser(r), s.sessionID(r))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	switch n {
	case 0:
		s.flash(w, r, "No other sessions were signed in.")
	case 1:
		s.flash(w, r, "Signed out 1 other session.")
	default:
		s.flash(w, r, fmt.Sprintf("Signed out %d other sessions.", n))
	}
	redirect(w, r, "/account")
}

// savePreferences records one's email preferences (today: an email when an inquiry is assigned
// to one), with the audit entry.
func (s *Server) savePreferences(w http.ResponseWriter, r *http.Request) {
	on := r.PostFormValue("assign_email") == "1"
	if err := s.cases.SetAssignEmail(r.Context(), actor(r), on); err != nil {
		s.serverError(w, r, err)
		return
	}
	msg := "Preferences saved: you will not be emailed when an inquiry is assigned to you."
	if on {
		msg = "Preferences saved: you will be emailed when an inquiry is assigned to you."
	}
	s.flash(w, r, msg)
	redirect(w, r, "/account")
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	current, next, confirm := r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("confirm")
	f := views.Form{Errors: map[string]string{}, Error: "Password not changed; see the messages next to the fields."}
	switch {
	case current == "":
		f.Errors["current"] = "Enter your current password."
	case next == "":
		f.Errors["new"] = "Enter a new password."
	case next != confirm:
		f.Errors["confirm"] = "This is not the same as the new password."
	}
	if len(f.Errors) > 0 {
		s.renderAccount(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	ip, account := s.clientIP(r), "password:"+currentUser(r).Email
	if wait := s.limiter.blocked(ip, account); wait > 0 {
		f.Errors["current"] = fmt.Sprintf("Too many attempts. Try again in %.0f s.", wait.Seconds()+0.5)
		s.renderAccount(w, r, http.StatusTooManyRequests, f)
		return
	}
	err := s.staff.ChangePassword(r.Context(), currentUser(r), current, next, s.sessionID(r))
	var pe *staff.PasswordError
	switch {
	case errors.Is(err, staff.ErrCurrentPassword):
		s.limiter.fail(ip, account)
		f.Errors["current"] = "This is not your current password."
		s.renderAccount(w, r, http.StatusUnprocessableEntity, f)
		return
	case errors.As(err, &pe):
		f.Errors["new"] = upperFirst(pe.Error()) + "."
		s.renderAccount(w, r, http.StatusUnprocessableEntity, f)
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	s.limiter.succeeded(account)
	s.flash(w, r, "Password changed. Your other sessions were signed out.")
	redirect(w, r, "/account")
}
