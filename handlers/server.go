// Package handlers is the console's HTTP layer: one route table, middleware, and one file per
// area. Handlers parse and validate requests, call the inquiry and staff packages (which do
// every write) and the db package's read queries, and render views; they never write the
// database or call Persona themselves.
package handlers

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/linkdesk/linkdesk/bulk"
	"github.com/linkdesk/linkdesk/casework"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/live"
	"github.com/linkdesk/linkdesk/mail"
	"github.com/linkdesk/linkdesk/staff"
	"github.com/linkdesk/linkdesk/static"
)

// Config is what the console needs to know about where it runs.
type Config struct {
	BaseURL     string        // e.g. http://127.0.0.1:8080; https turns on Secure cookies
	SessionKeys []string      // hex keys; empty: generated once and kept in the database
	IdleTimeout time.Duration // sign out after this long without a request
	MaxLifetime time.Duration // sign out after this long regardless
	Dev         bool          // dev-only pages (Mailbox)
	LoginLimit  int           // free failed sign-ins per account and per address before the back-off

	// TrustedProxies are reverse proxies whose X-Forwarded-For names the client (sign-in limits).
	TrustedProxies []netip.Prefix

	WebhookSecrets   []string      // Persona webhook secrets (several during rotation)
	WebhookTolerance time.Duration // accepted age of a webhook signature; 0: 300 s

	ExpiringWindow time.Duration // the list's "Expiring soon": links expiring within this; 0: 4 h

	SSO SSOConfig // sign-in with OpenID Connect (oidc.go); zero Issuer: off

	MetricsToken string         // bearer token for /metrics (LINKDESK_METRICS_TOKEN)
	MetricsAllow []netip.Prefix // networks that may read /metrics without the token

}

// Deps are the parts the console is wired to; cmd/linkdesk/serve.go builds them.
type Deps struct {
	DB        *db.DB
	Inquiries *inquiry.Service
	Live      *live.Hub         // changes to inquiries, published by the inquiry service and the outbox worker
	Lister    *db.Lister        // the list's queries and counts; give the hub its Changed
	Mailbox   *mail.Catcher     // the dev mail catcher for the Mailbox page; nil outside development
	Staff     *staff.Service    // staff accounts, sessions and setup: every write of them
	Bulk      *bulk.Engine      // bulk send; cmd runs its worker
	Casework  *casework.Service // notes, assignment, actions on many rows
	Log       *slog.Logger
	Metrics   Metrics // nil: /metrics is off (404)
	// Replication is serve --replicate-to's state, for /readyz and the Webhooks page; nil: off.
	Replication Replication
}

// Server holds the console's dependencies; its methods are the handlers.
type Server struct {
	cfg     Config
	db      *db.DB
	inq     *inquiry.Service
	staff   *staff.Service
	log     *slog.Logger
	assets  *static.Assets
	cookies *cookieStore
	limiter *loginLimiter
	secure  bool

	lister      *db.Lister        // the inquiry list's queries and counts (list.go)
	listCache   listCache         // the list's rendered pages and filter options (list_cache.go)
	live        *live.Hub         // live updates to open pages (live.go)
	mailbox     *mail.Catcher     // dev only (mail.go)
	webhooks    webhookState      // refused-delivery warnings and the endpoint's clock (webhooks.go)
	bulk        *bulk.Engine      // bulk send (bulk.go)
	cases       *casework.Service // notes, assignment, actions on many rows (notes.go, assign.go, rowactions.go)
	sso         *ssoClient        // sign-in with OpenID Connect (oidc.go); nil when off
	resets      *loginLimiter     // "Forgot password?" requests per address and email (reset.go)
	metrics     Metrics           // nil: off (observe.go)
	replication Replication       // nil: not replicating (observe.go)
	// previewKey signs the email preview document's addresses (settings_email.go).
	previewKey []byte
}

// New builds the server, loading or creating the session keys.
func New(ctx context.Context, cfg Config, deps Deps) (*Server, error) {
	if deps.DB == nil || deps.Inquiries == nil || deps.Live == nil || deps.Lister == nil || deps.Staff == nil || deps.Log == nil {
		return nil, fmt.Errorf("handlers: New needs DB, Inquiries, Live, Lister, Staff and Log")
	}
	d := deps.DB
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 8 * time.Hour
	}
	if cfg.MaxLifetime == 0 {
		cfg.MaxLifetime = 7 * 24 * time.Hour
	}
	if cfg.LoginLimit == 0 {
		cfg.LoginLimit = 5
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("handlers: base URL %q must be absolute, like http://127.0.0.1:8080", cfg.BaseURL)
	}
	keys, err := deps.Staff.CookieKeys(ctx, cfg.SessionKeys)
	if err != nil {
		return nil, err
	}
	store := sessions.NewCookieStore(keys...)
	for _, c := range store.Codecs {
		c.(*securecookie.SecureCookie).SetSerializer(sessionSerializer{})
	}
	store.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(cfg.MaxLifetime.Seconds()),
		HttpOnly: true,
		Secure:   u.Scheme == "https",
		SameSite: http.SameSiteLaxMode,
	}
	// A key of its own for preview addresses, derived from the cookies' signing key.
	derive := hmac.New(sha256.New, keys[0])
	derive.Write([]byte("linkdesk email preview addresses"))
	srv := &Server{
		previewKey:  derive.Sum(nil),
		cfg:         cfg,
		db:          d,
		inq:         deps.Inquiries,
		staff:       deps.Staff,
		log:         deps.Log,
		assets:      static.Load(),
		cookies:     &cookieStore{CookieStore: store},
		limiter:     newLoginLimiter(cfg.LoginLimit),
		resets:      newLoginLimiter(cfg.LoginLimit),
		secure:      u.Scheme == "https",
		lister:      deps.Lister,
		live:        deps.Live,
		mailbox:     deps.Mailbox,
		metrics:     deps.Metrics,
		replication: deps.Replication,
	}
	if srv.sso, err = newSSOClient(cfg.SSO, cfg.BaseURL); err != nil {
		return nil, err
	}
	if srv.sso != nil {
		// Tried once now so the sign-in page can explain a provider that is down; the console
		// starts either way and "Sign in with SSO" tries again.
		if _, err := srv.sso.discover(ctx); err != nil {
			deps.Log.Warn("sso: identity provider unavailable at start", "err", err)
		}
	}
	if srv.secure {
		srv.cookies.prefix = "__Host-" // the browser takes it only from this origin over HTTPS, for all paths
	}
	srv.listCache.version = deps.Live.Version
	srv.bulk = deps.Bulk
	srv.cases = deps.Casework
	return srv, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// cookieStore names the session cookie with prefix: "__Host-" over HTTPS, so another
// subdomain or a plain-HTTP page cannot set or overwrite it.
type cookieStore struct {
	*sessions.CookieStore
	prefix string
}

// Get returns the named session, its cookie named with the prefix.
func (c *cookieStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return c.CookieStore.Get(r, c.prefix+name)
}
