package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/staff"
	"github.com/linkdesk/linkdesk/views"
)

// ValidEmail reports whether s is one plain email address, by the same rule the email sender uses.
func ValidEmail(s string) bool { return inquiry.ValidRecipient(s) == nil }

// safeNext keeps only local paths, so a crafted sign-in link cannot send people elsewhere. The
// rule is checked on the path as it will be sent: http.Redirect cleans it (so "/./\evil"
// would become "/\evil"), and browsers read a backslash as a slash and drop tabs and newlines,
// so any of those, or a path that is not one slash and then a local segment, goes home instead.
func safeNext(next string) string {
	const home = "/inquiries"
	if len(next) > 2048 || strings.ContainsRune(next, '\\') || strings.IndexFunc(next, func(c rune) bool { return c <= ' ' || c == 0x7f }) >= 0 {
		return home
	}
	p, rest := next, ""
	if i := strings.IndexAny(next, "?#"); i >= 0 {
		p, rest = next[:i], next[i:]
	}
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return home
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	out := clean + rest
	if u, err := url.Parse(out); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || strings.HasPrefix(out, "//") {
		return home
	}
	return out
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if currentUser(r) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	if n, _ := s.db.UserCount(r.Context()); n == 0 {
		s.errorPage(w, r, http.StatusOK, "Linkdesk is not set up yet", "No staff account exists yet. Open the setup link that “linkdesk serve” printed in its terminal to create the first admin.")
		return
	}
	p := s.page(r, "Sign in", "")
	s.takeFlash(w, r, &p)
	s.render(w, r, http.StatusOK, views.LoginPage(p, views.Form{}, r.URL.Query().Get("next"), s.ssoView()), nil)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	pw := r.PostFormValue("password")
	next := r.PostFormValue("next")
	f := views.Form{Values: map[string]string{"email": email}}
	fail := func(status int, msg string) {
		f.Error = msg
		s.render(w, r, status, views.LoginPage(s.page(r, "Sign in", ""), f, next, s.ssoView()), nil)
	}
	if email == "" || pw == "" {
		fail(http.StatusUnprocessableEntity, "Enter your email and password.")
		return
	}
	ip := s.clientIP(r)
	if wait := s.limiter.blocked(ip, strings.ToLower(email)); wait > 0 {
		s.log.WarnContext(r.Context(), "sign-in throttled", "ip", ip)
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		fail(http.StatusTooManyRequests, fmt.Sprintf("Too many attempts. Try again in %d s.", secs))
		return
	}
	signIn := s.staff.SignIn
	if s.sso != nil && s.sso.cfg.Only {
		signIn = s.staff.SignInSSOOnly
	}
	u, sid, err := signIn(r.Context(), email, pw, s.sessionID(r))
	if s.secondStep(w, r, u, err, next) {
		return // the password was right; a code (or setting up two-step sign-in) comes next
	}
	if errors.Is(err, staff.ErrWrongPassword) || errors.Is(err, staff.ErrDisabled) || errors.Is(err, staff.ErrSSOOnly) {
		s.limiter.fail(ip, strings.ToLower(email))
		s.log.InfoContext(r.Context(), "sign-in failed", "ip", ip)
		msg := "The email or password is not right."
		switch {
		case errors.Is(err, staff.ErrDisabled):
			msg = "This account is disabled. Ask an admin to enable it."
		case s.sso != nil && s.sso.cfg.Only:
			// The same words for a wrong password and a right one of an account that must use
			// SSO, so the form does not confirm passwords it will not accept.
			msg = "The email or password is not right, or this account signs in with SSO only: use Sign in with SSO."
		}
		fail(http.StatusUnprocessableEntity, msg)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.saveSession(w, r, sid); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.limiter.succeeded(strings.ToLower(email))
	redirect(w, r, safeNext(next))
}

// sessionID is the session id the browser brought, or "".
func (s *Server) sessionID(r *http.Request) string {
	sess, _ := s.cookies.Get(r, sessionCookie)
	sid, _ := sess.Values["sid"].(string)
	return sid
}

// saveSession puts a freshly started session into the cookie, replacing whatever it held.
func (s *Server) saveSession(w http.ResponseWriter, r *http.Request, sid string) error {
	sess, _ := s.cookies.Get(r, sessionCookie)
	sess.Values = map[any]any{"sid": sid}
	if err := sess.Save(r, w); err != nil {
		return err
	}
	// Which browser this is, for the sessions list on "Your account"; only that list misses it.
	if err := s.staff.DescribeSession(r.Context(), sid, db.SessionClient{UserAgent: r.UserAgent(), IP: s.clientIP(r)}); err != nil {
		s.log.Warn("describe session", "err", err)
	}
	return nil
}

func (s *Server) logoutForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, views.LogoutPage(s.page(r, "Sign out", "")), nil)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	sess, _ := s.cookies.Get(r, sessionCookie)
	wasSSO, _ := sess.Values["sso"].(bool)
	if sid, _ := sess.Values["sid"].(string); sid != "" {
		if err := s.staff.EndSession(r.Context(), sid); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	sess.Values = map[any]any{}
	sess.AddFlash("You are signed out.")
	sess.Save(r, w)
	redirect(w, r, s.afterSignOut(wasSSO))
}

// --- first-run setup ---

func (s *Server) setupUnavailable(w http.ResponseWriter, r *http.Request) bool {
	n, err := s.db.UserCount(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return true
	}
	if n > 0 {
		s.errorPage(w, r, http.StatusNotFound, "Setup is finished", "Linkdesk already has an admin, so this setup link no longer works. Sign in instead.")
		return true
	}
	return false
}

func (s *Server) setupForm(w http.ResponseWriter, r *http.Request) {
	if s.setupUnavailable(w, r) {
		return
	}
	tok := r.URL.Query().Get("token")
	if !s.staff.ValidSetupToken(r.Context(), tok) {
		s.errorPage(w, r, http.StatusForbidden, "Setup link not valid", "This setup link is wrong or old. Use the newest link that `linkdesk serve` printed in its terminal.")
		return
	}
	s.render(w, r, http.StatusOK, views.SetupPage(s.page(r, "Set up Linkdesk", ""), views.Form{}, tok), nil)
}

func (s *Server) setup(w http.ResponseWriter, r *http.Request) {
	if s.setupUnavailable(w, r) {
		return
	}
	tok := r.PostFormValue("token")
	if !s.staff.ValidSetupToken(r.Context(), tok) {
		s.errorPage(w, r, http.StatusForbidden, "Setup link not valid", "This setup link is wrong or old. Use the newest link that `linkdesk serve` printed in its terminal.")
		return
	}
	in := staffInput{Name: r.PostFormValue("name"), Email: r.PostFormValue("email"), Role: model.Admin, Password: r.PostFormValue("password")}
	f := in.validate(true)
	if len(f.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, views.SetupPage(s.page(r, "Set up Linkdesk", ""), f, tok), nil)
		return
	}
	u, sid, err := s.staff.Setup(r.Context(), tok, in.Name, in.Email, in.Password, s.sessionID(r))
	var pe *staff.PasswordError
	switch {
	case errors.As(err, &pe):
		f.Errors["password"] = pe.Error()
		s.render(w, r, http.StatusUnprocessableEntity, views.SetupPage(s.page(r, "Set up Linkdesk", ""), f, tok), nil)
		return
	case errors.Is(err, staff.ErrSetupDone):
		s.setupUnavailable(w, r)
		return
	case errors.Is(err, staff.ErrSetupToken):
		s.errorPage(w, r, http.StatusForbidden, "Setup link not valid", "This setup link is wrong or old. Use the newest link that `linkdesk serve` printed in its terminal.")
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	if err := s.saveSession(w, r, sid); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.flash(w, r, "Welcome, "+u.Name+". Linkdesk is set up.")
	redirect(w, r, "/inquiries")
}
