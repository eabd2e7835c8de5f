package handlers

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/views"
	"golang.org/x/crypto/bcrypt"
)

// MinPasswordLength is enforced for every password set through the console or the CLI.
const MinPasswordLength = 12

// HashPassword hashes a password for storage.
func HashPassword(pw string) (string, error) {
	if len(pw) < MinPasswordLength {
		return "", fmt.Errorf("the password must be at least %d characters", MinPasswordLength)
	}
	if len(pw) > 72 {
		return "", errors.New("the password must be at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	return string(h), err
}

// dummyHash keeps sign-in for unknown emails as slow as for known ones.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not-a-real-password"), bcrypt.DefaultCost)

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
		s.errorPage(w, r, http.StatusOK, "Linkdesk is not set up yet", "No staff account exists yet. Open the setup link that `linkdesk serve` printed in its terminal to create the first admin.")
		return
	}
	p := s.page(r, "Sign in", "")
	s.takeFlash(w, r, &p)
	s.render(w, r, http.StatusOK, views.LoginPage(p, views.Form{}, r.URL.Query().Get("next")), nil)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	pw := r.PostFormValue("password")
	next := r.PostFormValue("next")
	f := views.Form{Values: map[string]string{"email": email}}
	fail := func(status int, msg string) {
		f.Error = msg
		s.render(w, r, status, views.LoginPage(s.page(r, "Sign in", ""), f, next), nil)
	}
	if email == "" || pw == "" {
		fail(http.StatusUnprocessableEntity, "Enter your email and password.")
		return
	}
	ip := clientIP(r)
	if wait := s.limiter.blocked(ip, strings.ToLower(email)); wait > 0 {
		s.log.Warn("sign-in throttled", "ip", ip)
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		fail(http.StatusTooManyRequests, fmt.Sprintf("Too many attempts. Try again in %d s.", int(wait.Seconds())+1))
		return
	}
	u, err := s.db.UserByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		s.serverError(w, r, err)
		return
	}
	hash := dummyHash
	if u != nil {
		hash = []byte(u.PasswordHash)
	}
	ok := bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil && u != nil
	if !ok || u.Disabled {
		s.limiter.fail(ip, strings.ToLower(email))
		s.log.Info("sign-in failed", "ip", ip)
		msg := "The email or password is not right."
		if ok && u.Disabled {
			msg = "This account is disabled. Ask an admin to enable it."
		}
		fail(http.StatusUnprocessableEntity, msg)
		return
	}
	if err := s.startSession(w, r, u); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.audit(r, db.AuditEntry{UserID: u.ID, Actor: u.Name, Action: "user.sign-in", Target: u.Email})
	redirect(w, r, safeNext(next))
}

// startSession rotates the session: any id the browser brought is dropped and a fresh one
// issued, so a planted cookie cannot be fixed onto the signed-in user.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *db.User) error {
	sess, _ := s.cookies.Get(r, sessionCookie)
	if old, _ := sess.Values["sid"].(string); old != "" {
		s.db.DeleteSession(r.Context(), old)
	}
	sid := randomHex(32)
	if err := s.db.CreateSession(r.Context(), sid, u.ID); err != nil {
		return err
	}
	sess.Values = map[any]any{"sid": sid}
	return sess.Save(r, w)
}

func (s *Server) logoutForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, views.LogoutPage(s.page(r, "Sign out", "")), nil)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	sess, _ := s.cookies.Get(r, sessionCookie)
	if sid, _ := sess.Values["sid"].(string); sid != "" {
		if err := s.db.DeleteSession(r.Context(), sid); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	sess.Values = map[any]any{}
	sess.AddFlash("You are signed out.")
	sess.Save(r, w)
	redirect(w, r, "/login")
}

// --- first-run setup ---

const setupTokenKey = "setup_token_sha256"

// SetupToken makes a new one-time setup token when no user exists yet, stores its hash and
// returns it; it returns "" once someone has set Linkdesk up.
func SetupToken(ctx context.Context, d *db.DB) (string, error) {
	n, err := d.UserCount(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	tok := randomHex(24)
	sum := sha256.Sum256([]byte(tok))
	if err := d.SetSettings(ctx, map[string]string{setupTokenKey: hex.EncodeToString(sum[:])}, db.AuditEntry{}); err != nil {
		return "", err
	}
	return tok, nil
}

func (s *Server) validSetupToken(ctx context.Context, tok string) bool {
	want, err := s.db.Setting(ctx, setupTokenKey)
	if err != nil || tok == "" {
		return false
	}
	sum := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(want)) == 1
}

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
	if !s.validSetupToken(r.Context(), tok) {
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
	if !s.validSetupToken(r.Context(), tok) {
		s.errorPage(w, r, http.StatusForbidden, "Setup link not valid", "This setup link is wrong or old. Use the newest link that `linkdesk serve` printed in its terminal.")
		return
	}
	in := staffInput{Name: r.PostFormValue("name"), Email: r.PostFormValue("email"), Role: db.RoleAdmin, Password: r.PostFormValue("password")}
	f := in.validate(true)
	var hash string
	if len(f.Errors) == 0 {
		var err error
		if hash, err = HashPassword(in.Password); err != nil {
			f.Errors["password"] = err.Error()
		}
	}
	if len(f.Errors) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, views.SetupPage(s.page(r, "Set up Linkdesk", ""), f, tok), nil)
		return
	}
	id, created, err := s.db.CreateFirstAdmin(r.Context(), db.User{Email: in.Email, Name: in.Name, PasswordHash: hash})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if !created {
		s.setupUnavailable(w, r)
		return
	}
	if err := s.db.DeleteSetting(r.Context(), setupTokenKey); err != nil {
		// Harmless: the token stops working anyway once an admin exists.
		s.log.Warn("delete setup token", "err", err)
	}
	u, err := s.db.UserByID(r.Context(), id)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.audit(r, db.AuditEntry{UserID: u.ID, Actor: u.Name, Action: "user.setup", Target: u.Email, Detail: "first admin created"})
	if err := s.startSession(w, r, u); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.flash(w, r, "Welcome, "+u.Name+". Linkdesk is set up.")
	redirect(w, r, "/inquiries")
}

// --- sign-in throttling ---

// loginLimiter counts failed sign-ins per account and per address in a sliding window.
type loginLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	fails  map[string][]time.Time
	now    func() time.Time
}

func newLoginLimiter(limit int, window time.Duration) *loginLimiter {
	return &loginLimiter{limit: limit, window: window, fails: map[string][]time.Time{}, now: time.Now}
}

func (l *loginLimiter) recent(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
	} else {
		l.fails[key] = ts
	}
	return ts
}

// blocked returns how long the caller must wait, or 0.
func (l *loginLimiter) blocked(ip, account string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for _, k := range []string{"ip:" + ip, "acct:" + account} {
		if ts := l.recent(k, now); len(ts) >= l.limit {
			wait = max(wait, l.window-now.Sub(ts[len(ts)-l.limit]))
		}
	}
	return wait
}

func (l *loginLimiter) fail(ip, account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	// Keys are pruned when used again; a sweep now and then drops those never seen again, so
	// a stream of made-up emails cannot grow the map without bound.
	if len(l.fails) > 10000 {
		for k := range l.fails {
			l.recent(k, now)
		}
	}
	for _, k := range []string{"ip:" + ip, "acct:" + account} {
		l.fails[k] = append(l.recent(k, now), now)
	}
}

// clientIP is the connection's address; behind a proxy every request shares it, which makes
// the per-address limit stricter, never looser.
func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return host
}
