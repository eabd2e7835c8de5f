package handlers

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/staff"
	"github.com/linkdesk/linkdesk/views"
	"golang.org/x/oauth2"
)

// ssoCookie holds one sign-in's state, nonce, PKCE verifier and where to go after, between
// "Sign in with SSO" and the provider's answer.
const ssoCookie = "linkdesk_sso"

// ssoFlowAge is how long a started SSO sign-in may take at the provider.
const ssoFlowAge = 10 * 60

// ssoView is what the sign-in page says about SSO.
func (s *Server) ssoView() views.SSOView {
	if s.sso == nil {
		return views.SSOView{}
	}
	problem, _ := s.sso.status()
	return views.SSOView{On: true, Problem: problem, Only: s.sso.cfg.Only}
}

// ssoStart begins the authorization code flow with PKCE, a state and a nonce.
func (s *Server) ssoStart(w http.ResponseWriter, r *http.Request) {
	if s.sso == nil {
		s.notFound(w, r)
		return
	}
	next := safeNext(r.URL.Query().Get("next"))
	p, err := s.sso.discover(r.Context())
	if err != nil {
		s.log.Warn("sso: provider unavailable", "err", err)
		s.ssoFail(w, r, http.StatusBadGateway, err.Error()+" Try Sign in with SSO again in a moment; if it keeps failing, tell an admin.", next)
		return
	}
	state, nonce, verifier := randomHex(16), randomHex(16), oauth2.GenerateVerifier()
	sess, _ := s.cookies.Get(r, ssoCookie)
	opts := *s.cookies.Options
	opts.MaxAge = ssoFlowAge
	sess.Options = &opts
	sess.Values = map[any]any{"state": state, "nonce": nonce, "verifier": verifier, "next": next, "at": time.Now().Unix()}
	if err := sess.Save(r, w); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, s.sso.oauth(p).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidcNonce(nonce)), http.StatusSeeOther)
}

func oidcNonce(n string) oauth2.AuthCodeOption { return oauth2.SetAuthURLParam("nonce", n) }

// ssoCallback is where the provider sends the browser back: it checks the state, trades the
// code, verifies the ID token and its nonce, and signs the person in with the role their groups
// map to.
func (s *Server) ssoCallback(w http.ResponseWriter, r *http.Request) {
	if s.sso == nil {
		s.notFound(w, r)
		return
	}
	sess, _ := s.cookies.Get(r, ssoCookie)
	state, _ := sess.Values["state"].(string)
	nonce, _ := sess.Values["nonce"].(string)
	verifier, _ := sess.Values["verifier"].(string)
	next, _ := sess.Values["next"].(string)
	// The cookie's own expiry is up to the browser; the flow's age is checked here too.
	if at, _ := sess.Values["at"].(int64); time.Since(time.Unix(at, 0)) > ssoFlowAge*time.Second {
		state = ""
	}
	// The flow is single-use whatever happens next.
	gone := *s.cookies.Options
	gone.MaxAge = -1
	sess.Options = &gone
	sess.Values = map[any]any{}
	sess.Save(r, w)

	q := r.URL.Query()
	refuse := func(status int, why, words string) {
		if err := s.staff.RecordSSORefusal(r.Context(), staff.SSOIdentity{}, why); err != nil {
			s.log.Error("sso: audit refusal", "err", err)
		}
		s.log.Info("sso: sign-in refused", "why", why, "ip", s.clientIP(r))
		s.ssoFail(w, r, status, words, next)
	}
	switch {
	case q.Get("error") == "access_denied":
		refuse(http.StatusForbidden, "consent denied at the provider",
			"You did not allow Linkdesk to use your account at the identity provider, so you are not signed in. Sign in with SSO again and allow it to continue.")
		return
	case q.Get("error") != "":
		why := q.Get("error")
		if d := q.Get("error_description"); d != "" {
			why += ": " + d
		}
		refuse(http.StatusBadGateway, "the provider answered "+why,
			"The identity provider refused the sign-in ("+why+"). Try again, or tell an admin if it keeps happening.")
		return
	case state == "" || q.Get("state") != state:
		refuse(http.StatusBadRequest, "wrong state",
			"This answer from the identity provider does not belong to a sign-in started in this browser in the last 10 minutes, so it was not used. Start again with Sign in with SSO.")
		return
	case q.Get("iss") != "" && q.Get("iss") != s.sso.cfg.Issuer:
		// RFC 9207: an answer naming another issuer is a mix-up, whatever its state says.
		refuse(http.StatusBadRequest, "answer from another issuer ("+q.Get("iss")+")",
			"This answer names another identity provider than the one Linkdesk uses, so it was not used. Start again with Sign in with SSO.")
		return
	case q.Get("code") == "":
		refuse(http.StatusBadRequest, "no code", "The identity provider sent no sign-in code. Start again with Sign in with SSO.")
		return
	}
	p, err := s.sso.discover(r.Context())
	if err != nil {
		s.ssoFail(w, r, http.StatusBadGateway, err.Error()+" Try again in a moment.", next)
		return
	}
	idt, err := s.sso.exchange(r.Context(), p, q.Get("code"), verifier, nonce)
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re) && re.ErrorCode == "invalid_grant":
		refuse(http.StatusBadRequest, "expired or used code",
			"The sign-in code from the identity provider expired or was already used. Start again with Sign in with SSO.")
		return
	case errors.Is(err, errNonce), errors.Is(err, errBadIDToken), errors.Is(err, errNoIDToken):
		s.log.Warn("sso: ID token refused", "err", err)
		refuse(http.StatusBadGateway, err.Error(), "The identity provider's answer could not be verified, so you are not signed in. Start again with Sign in with SSO; if it keeps failing, tell an admin.")
		return
	case err != nil:
		s.log.Warn("sso: token exchange failed", "err", err)
		s.ssoFail(w, r, http.StatusBadGateway, "Linkdesk could not finish the sign-in with the identity provider: it did not answer the code exchange as expected. Try again in a moment; if it keeps failing, tell an admin.", next)
		return
	}
	id, err := s.sso.identity(idt)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	u, sid, err := s.staff.SignInSSO(r.Context(), id, s.sessionID(r))
	var refusal *staff.SSORefusal
	if errors.As(err, &refusal) {
		s.log.Info("sso: sign-in refused", "subject", id.Subject, "ip", s.clientIP(r))
		s.ssoFail(w, r, http.StatusForbidden, refusal.Reason, next)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	main, _ := s.cookies.Get(r, sessionCookie)
	main.Values = map[any]any{"sid": sid, "sso": true}
	if err := main.Save(r, w); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log.Info("sso: signed in", "user", u.ID)
	redirect(w, r, safeNext(next))
}

// ssoFail shows the sign-in page with what went wrong with SSO, in words.
func (s *Server) ssoFail(w http.ResponseWriter, r *http.Request, status int, words, next string) {
	f := views.Form{Error: words}
	s.render(w, r, status, views.LoginPage(s.page(r, "Sign in", ""), f, next, s.ssoView()), nil)
}

// afterSignOut is where a sign-out goes: the provider's end_session_endpoint when the session
// came from SSO and the provider offers one, else the sign-in page.
func (s *Server) afterSignOut(wasSSO bool) string {
	if s.sso != nil && wasSSO {
		if u := s.sso.endSessionURL(strings.TrimRight(s.cfg.BaseURL, "/") + "/login"); u != "" {
			return u
		}
	}
	return "/login"
}

// ssoFormAction lets forms lead to the provider: "Sign in with SSO" and a sign-out that goes
// on to its end_session_endpoint are redirects the browser checks against form-action.
func (s *Server) ssoFormAction(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, origins := s.sso.status()
		h := w.Header()
		h.Set("Content-Security-Policy", strings.Replace(h.Get("Content-Security-Policy"),
			"form-action 'self'", "form-action 'self' "+strings.Join(origins, " "), 1))
		next.ServeHTTP(w, r)
	})
}

// ssoSettings is what the Settings page shows about SSO.
func (s *Server) ssoSettings() views.SSOSettings {
	base := strings.TrimRight(s.cfg.BaseURL, "/")
	v := views.SSOSettings{RedirectURI: base + "/auth/oidc/callback", SignOutURI: base + "/login"}
	if s.sso == nil {
		return v
	}
	c := s.sso.cfg
	v.On, v.Issuer, v.ClientID, v.GroupsClaim, v.Only = true, c.Issuer, c.ClientID, c.GroupsClaim, c.Only
	v.Problem, _ = s.sso.status()
	var roles []string
	for _, r := range model.Roles {
		var groups []string
		for g, gr := range c.Roles {
			if gr == r {
				groups = append(groups, g)
			}
		}
		slices.Sort(groups)
		if len(groups) > 0 {
			roles = append(roles, string(r)+" ← "+strings.Join(groups, " or "))
		}
	}
	v.Roles = strings.Join(roles, "; ")
	return v
}

// passwordSignIn is whether a password (chosen from an invitation or a reset link) may sign u
// in here: always, except under --sso-only for accounts that are not break-glass.
func (s *Server) passwordSignIn() func(*db.User) bool {
	if s.sso != nil && s.sso.cfg.Only {
		return staff.BreakGlass
	}
	return nil
}

// ssoOnlyNotice is what someone who just chose a password is told when --sso-only keeps them
// from signing in with it.
const ssoOnlyNotice = "Your password is set. Staff sign in to this console with Sign in with SSO."

// enterWithNewPassword ends a password chosen from an invitation or reset link: into the console
// with its new session, or to sign-in when --sso-only gave it none.
func (s *Server) enterWithNewPassword(w http.ResponseWriter, r *http.Request, sid, welcome string) {
	if sid == "" {
		s.flash(w, r, ssoOnlyNotice)
		redirect(w, r, "/login")
		return
	}
	if err := s.saveSession(w, r, sid); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.flash(w, r, welcome)
	redirect(w, r, "/inquiries")
}
