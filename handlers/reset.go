package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/linkdesk/linkdesk/staff"
	"github.com/linkdesk/linkdesk/views"
)

func (s *Server) forgotForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, views.ForgotPage(s.page(r, "Forgot password", ""), views.Form{}, false), nil)
}

// forgot emails a reset link when the email has an account; the answer is the same either way.
func (s *Server) forgot(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	f := views.Form{Values: map[string]string{"email": email}, Errors: map[string]string{}}
	if !ValidEmail(email) {
		f.Errors["email"] = "Enter an email address like name@example.com."
		s.render(w, r, http.StatusUnprocessableEntity, views.ForgotPage(s.page(r, "Forgot password", ""), f, false), nil)
		return
	}
	// Every request counts like a failed sign-in (on a limiter of its own), so the form cannot
	// be used to flood an inbox or to probe many addresses quickly.
	ip := s.clientIP(r)
	if wait := s.resets.blocked(ip, strings.ToLower(email)); wait > 0 {
		f.Error = "Too many requests from here. Try again in a few minutes."
		s.render(w, r, http.StatusTooManyRequests, views.ForgotPage(s.page(r, "Forgot password", ""), f, false), nil)
		return
	}
	s.resets.fail(ip, strings.ToLower(email))
	if err := s.staff.RequestPasswordReset(r.Context(), email, s.cfg.BaseURL); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.ForgotPage(s.page(r, "Forgot password", ""), f, true), nil)
}

const resetInvalidWords = "This reset link is wrong, already used or expired (it works once, for 1 hour). Ask for a new one with Forgot password? on the sign-in page."

func (s *Server) resetForm(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	u, err := s.staff.PasswordResetAccount(r.Context(), tok)
	if errors.Is(err, staff.ErrLinkInvalid) {
		s.errorPage(w, r, http.StatusNotFound, "Reset link not valid", resetInvalidWords)
		return
	} else if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.ResetPage(s.page(r, "Choose a new password", ""), views.Form{}, tok, u.Email), nil)
}

func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	tok := r.PostFormValue("token")
	u, err := s.staff.PasswordResetAccount(r.Context(), tok)
	if errors.Is(err, staff.ErrLinkInvalid) {
		s.errorPage(w, r, http.StatusNotFound, "Reset link not valid", resetInvalidWords)
		return
	} else if err != nil {
		s.serverError(w, r, err)
		return
	}
	me, sid, err := s.staff.ResetPassword(r.Context(), tok, r.PostFormValue("password"), s.sessionID(r), s.passwordSignIn())
	var pe *staff.PasswordError
	switch {
	case errors.As(err, &pe):
		f := views.Form{Errors: map[string]string{"password": "Choose another password: " + pe.Error() + "."}}
		s.render(w, r, http.StatusUnprocessableEntity, views.ResetPage(s.page(r, "Choose a new password", ""), f, tok, u.Email), nil)
		return
	case errors.Is(err, staff.ErrLinkInvalid):
		s.errorPage(w, r, http.StatusNotFound, "Reset link not valid", resetInvalidWords)
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	s.enterWithNewPassword(w, r, sid, "Your password is changed, "+me.Name+". Every other session of your account was signed out.")
}
