package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

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

// --- sign-in throttling ---
//
// Failures are counted per client address and per account. Each gets LoginLimit free failures;
// after that every further attempt must wait twice as long as the one before it (loginBase, then
// 2x, 4x... up to loginCap), counted from the last failure, and a count is forgotten after
// loginForget without failures.
//
// An account's back-off applies only to addresses that have themselves failed on that account.
// Someone guessing from elsewhere therefore cannot lock the owner out (the owner's address has
// not failed on it and gets straight through), while a guesser is slowed twice: by their own
// address's back-off, and, on every address that already guessed wrong, by the account's. An
// attack spread over many addresses gets one unthrottled guess per fresh address, no more. A
// correct password clears the account's count but not the address's, so signing in to one's own
// account does not buy more guesses at someone else's.

const (
	loginBase    = 30 * time.Second
	loginCap     = 15 * time.Minute
	loginForget  = time.Hour
	maxAcctAddrs = 1000 // addresses remembered per account; the oldest go first
)

type backoff struct {
	fails int
	last  time.Time
	addrs map[string]time.Time // accounts only: the addresses that failed on it
}

type loginLimiter struct {
	mu    sync.Mutex
	free  int
	ips   map[string]*backoff
	accts map[string]*backoff
	now   func() time.Time
}

func newLoginLimiter(free int) *loginLimiter {
	return &loginLimiter{free: free, ips: map[string]*backoff{}, accts: map[string]*backoff{}, now: time.Now}
}

// setClock replaces the clock (tests).
func (l *loginLimiter) setClock(now func() time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.now = now
}

// liveCount returns key's live count, dropping a forgotten one.
func liveCount(m map[string]*backoff, key string, now time.Time) *backoff {
	b := m[key]
	if b != nil && now.Sub(b.last) >= loginForget {
		delete(m, key)
		return nil
	}
	return b
}

// wait is how long b still holds off the next attempt.
func (l *loginLimiter) wait(b *backoff, now time.Time) time.Duration {
	if b == nil || b.fails < l.free {
		return 0
	}
	d := min(loginBase<<min(b.fails-l.free, 16), loginCap)
	return max(0, b.last.Add(d).Sub(now))
}

// blocked returns how long the caller must wait, or 0.
func (l *loginLimiter) blocked(ip, account string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	wait := l.wait(liveCount(l.ips, ip, now), now)
	if a := liveCount(l.accts, account, now); a != nil {
		if _, failedHere := a.addrs[ip]; failedHere {
			wait = max(wait, l.wait(a, now))
		}
	}
	return wait
}

func (l *loginLimiter) fail(ip, account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	// Counts are pruned when used again; a sweep now and then drops those never seen again, so
	// a stream of made-up emails cannot grow the maps without bound.
	if len(l.ips)+len(l.accts) > 10000 {
		for _, m := range []map[string]*backoff{l.ips, l.accts} {
			for k := range m {
				liveCount(m, k, now)
			}
		}
	}
	b := liveCount(l.ips, ip, now)
	if b == nil {
		b = &backoff{}
		l.ips[ip] = b
	}
	b.fails, b.last = b.fails+1, now
	a := liveCount(l.accts, account, now)
	if a == nil {
		a = &backoff{addrs: map[string]time.Time{}}
		l.accts[account] = a
	}
	a.fails, a.last = a.fails+1, now
	a.addrs[ip] = now
	if len(a.addrs) > maxAcctAddrs {
		oldest := ip
		for k, t := range a.addrs {
			if t.Before(a.addrs[oldest]) {
				oldest = k
			}
		}
		delete(a.addrs, oldest)
	}
}

// succeeded clears the account's count after a correct password.
func (l *loginLimiter) succeeded(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.accts, account)
}

// ParseTrustedProxies reads a comma-separated list of IP addresses and CIDR ranges.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(f); err == nil {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		} else {
			return nil, fmt.Errorf("trusted proxy %q is neither an IP address (10.0.0.5) nor a CIDR range (10.0.0.0/8)", f)
		}
	}
	return out, nil
}

func (s *Server) trustedProxy(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the address sign-in limits are counted against: the connection's address, unless
// that is a trusted proxy; then the right-most X-Forwarded-For address that is not a trusted
// proxy itself (addresses left of it were written by the client and prove nothing). Untrusted
// peers' X-Forwarded-For is ignored. Behind an unlisted proxy every request shares the proxy's
// address, which makes the per-address limit stricter, never looser.
func (s *Server) clientIP(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	addr := ap.Addr().Unmap()
	if !s.trustedProxy(addr) {
		return addr.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		a, err := netip.ParseAddr(h)
		if err != nil {
			ap, perr := netip.ParseAddrPort(h)
			if perr != nil {
				break // not an address: stop at the last hop we could trust
			}
			a = ap.Addr()
		}
		if a = a.Unmap(); !s.trustedProxy(a) {
			return a.String()
		}
		addr = a
	}
	return addr.String()
}
