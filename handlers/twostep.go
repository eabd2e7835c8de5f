package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/staff"
	"github.com/linkdesk/linkdesk/views"
)

// Two-step sign-in, after a correct password. Until the code is right (or, where admins
// require it, until two-step sign-in is set up) the browser holds no session: its cookie
// (signed and encrypted) holds only who passed the password, when, and where to go next, for
// pendingFor. No route but /login/two-step reads it.

const pendingFor = 10 * time.Minute

// pendingSignIn is a sign-in whose password was right.
type pendingSignIn struct {
	user  *db.User
	setUp bool // two-step sign-in is required and must be set up first
	next  string
}

// secondStep starts the second step when SignIn asked for one (err is ErrCodeNeeded or
// ErrSetUpNeeded) and reports whether it did; the caller returns then.
func (s *Server) secondStep(w http.ResponseWriter, r *http.Request, u *db.User, err error, next string) bool {
	setUp := errors.Is(err, staff.ErrSetUpNeeded)
	if !setUp && !errors.Is(err, staff.ErrCodeNeeded) {
		return false
	}
	sess, _ := s.cookies.Get(r, sessionCookie)
	if sid, _ := sess.Values["sid"].(string); sid != "" {
		if err := s.staff.EndSession(r.Context(), sid); err != nil { // another account's, in this browser
			s.serverError(w, r, err)
			return true
		}
	}
	sess.Values = map[any]any{"pending_user": u.ID, "pending_at": time.Now().Unix(), "pending_setup": setUp, "pending_next": safeNext(next)}
	if err := sess.Save(r, w); err != nil {
		s.serverError(w, r, err)
		return true
	}
	redirect(w, r, "/login/two-step")
	return true
}

// pending returns the sign-in waiting for its second step, or nil when there is none (or it is
// too old, or the account was disabled meanwhile).
func (s *Server) pending(r *http.Request) (*pendingSignIn, error) {
	sess, _ := s.cookies.Get(r, sessionCookie)
	id, _ := sess.Values["pending_user"].(int64)
	at, _ := sess.Values["pending_at"].(int64)
	if id == 0 || time.Since(time.Unix(at, 0)) > pendingFor {
		return nil, nil
	}
	u, err := s.db.UserByID(r.Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, nil
	}
	setUp, _ := sess.Values["pending_setup"].(bool)
	next, _ := sess.Values["pending_next"].(string)
	if setUp && u.TwoStepEnabled() {
		return nil, nil // set up meanwhile elsewhere: sign in again and give the code
	}
	return &pendingSignIn{user: u, setUp: setUp, next: safeNext(next)}, nil
}

// noPending answers a second step with no sign-in waiting: the sign-in page, saying why.
func (s *Server) noPending(w http.ResponseWriter, r *http.Request) {
	status := http.StatusOK
	if r.Method == http.MethodPost {
		status = http.StatusUnprocessableEntity
	}
	f := views.Form{Error: "Your sign-in took too long or has not started. Enter your email and password again."}
	s.render(w, r, status, views.LoginPage(s.page(r, "Sign in", ""), f, "", s.ssoView()), nil)
}

func (s *Server) twoStepForm(w http.ResponseWriter, r *http.Request) {
	ps, err := s.pending(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if ps == nil {
		s.noPending(w, r)
		return
	}
	if ps.setUp {
		s.renderSetUp(w, r, http.StatusOK, ps.user, views.Form{}, true)
		return
	}
	s.render(w, r, http.StatusOK, views.TwoStepCodePage(s.page(r, "Two-step sign-in", ""), views.Form{}), nil)
}

// twoStep checks the code of a pending sign-in (or, where it must be set up, confirms the
// set-up) and signs in. Wrong codes count against the same limits as wrong passwords.
func (s *Server) twoStep(w http.ResponseWriter, r *http.Request) {
	ps, err := s.pending(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if ps == nil {
		s.noPending(w, r)
		return
	}
	u, code := ps.user, strings.TrimSpace(r.PostFormValue("code"))
	account, ip := strings.ToLower(u.Email), s.clientIP(r)
	fail := func(status int, msg string) {
		f := views.Form{Errors: map[string]string{"code": msg}}
		if ps.setUp {
			s.renderSetUp(w, r, status, u, f, true)
			return
		}
		s.render(w, r, status, views.TwoStepCodePage(s.page(r, "Two-step sign-in", ""), f), nil)
	}
	if wait := s.limiter.blocked(ip, account); wait > 0 {
		s.log.Warn("two-step sign-in throttled", "ip", ip)
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		fail(http.StatusTooManyRequests, fmt.Sprintf("Too many attempts. Try again in %d s.", secs))
		return
	}
	if code == "" {
		fail(http.StatusUnprocessableEntity, "Enter the code from your authenticator app.")
		return
	}
	var sid string
	var codes []string
	if ps.setUp {
		if codes, err = s.staff.ConfirmTwoStep(r.Context(), u, code); err == nil {
			sid, err = s.staff.SignedIn(r.Context(), u, "", "after setting up two-step sign-in")
		}
	} else {
		sid, err = s.staff.SignInWithCode(r.Context(), u, code, "")
	}
	switch {
	case errors.Is(err, staff.ErrWrongCode):
		s.limiter.fail(ip, account)
		s.log.Info("two-step code refused", "ip", ip)
		fail(http.StatusUnprocessableEntity, "That code is not right, or was used already. Enter the newest code from your app, or a recovery code.")
		return
	case errors.Is(err, staff.ErrNoSetUp):
		s.noPending(w, r)
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	s.limiter.succeeded(account)
	if err := s.saveSession(w, r, sid); err != nil {
		s.serverError(w, r, err)
		return
	}
	if ps.setUp {
		r = r.WithContext(withUser(r.Context(), u))
		s.render(w, r, http.StatusOK, views.RecoveryCodesPage(s.page(r, "Recovery codes", ""), views.RecoveryCodesView{Codes: codes, Continue: ps.next}), nil)
		return
	}
	redirect(w, r, ps.next)
}

// renderSetUp shows the set-up of two-step sign-in for u, starting one if none is in progress.
func (s *Server) renderSetUp(w http.ResponseWriter, r *http.Request, status int, u *db.User, f views.Form, atSignIn bool) {
	setUp, ok := s.staff.PendingTwoStep(u)
	if !ok {
		var err error
		if setUp, err = s.staff.StartTwoStep(r.Context(), u); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	action := "/account/two-step/confirm"
	if atSignIn {
		action = "/login/two-step"
	}
	v := views.TwoStepSetUpView{URL: setUp.URL, Secret: setUp.Secret, Action: action, Form: f, AtSignIn: atSignIn}
	s.render(w, r, status, views.TwoStepSetUpPage(s.page(r, "Set up two-step sign-in", "account"), v), nil)
}
