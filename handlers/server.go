// Package handlers is the console's HTTP layer: one route table, middleware, and one file per
// area. Handlers parse and validate requests, call the inquiry package and the db package's
// read queries, and render views; they never write SQL or call Persona themselves.
package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/linkdesk/linkdesk/bulk"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/static"
)

// Config is what the console needs to know about where it runs.
type Config struct {
	BaseURL     string        // e.g. http://127.0.0.1:8080; https turns on Secure cookies
	SessionKeys []string      // hex keys; empty: generated once and kept in the database
	IdleTimeout time.Duration // sign out after this long without a request
	MaxLifetime time.Duration // sign out after this long regardless
	Dev         bool          // dev-only pages (Mailbox)
	LoginLimit  int           // failed sign-ins per minute per account and per address

	WebhookSecrets   []string      // Persona webhook secrets (several during rotation)
	WebhookTolerance time.Duration // accepted age of a webhook signature; 0: 300 s

	Streams StreamLimits // live-update streams (live.go); zero values: defaults

	Bulk *bulk.Engine // bulk send, its worker run by the caller; nil: one without a worker
}

// Server holds the console's dependencies; its methods are the handlers.
type Server struct {
	cfg     Config
	db      *db.DB
	inq     *inquiry.Service
	log     *slog.Logger
	assets  *static.Assets
	cookies *sessions.CookieStore
	limiter *loginLimiter
	secure  bool

	lister    *db.Lister   // the inquiry list's queries and counts (list.go)
	listCache listCache    // the list's rendered pages and filter options (list.go)
	hub       *hub         // live updates to open pages (live.go)
	webhooks  webhookState // refused-delivery warnings and the endpoint's clock (webhooks.go)
	bulk      *bulk.Engine // bulk send (bulk.go)
}

// New builds the server, loading or creating the session keys.
func New(ctx context.Context, cfg Config, d *db.DB, inq *inquiry.Service, log *slog.Logger) (*Server, error) {
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
	keys, err := sessionKeys(ctx, d, cfg.SessionKeys)
	if err != nil {
		return nil, err
	}
	store := sessions.NewCookieStore(keys...)
	store.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(cfg.MaxLifetime.Seconds()),
		HttpOnly: true,
		Secure:   u.Scheme == "https",
		SameSite: http.SameSiteLaxMode,
	}
	srv := &Server{
		cfg:     cfg,
		db:      d,
		inq:     inq,
		log:     log,
		assets:  static.Load(),
		cookies: store,
		limiter: newLoginLimiter(cfg.LoginLimit, time.Minute),
		secure:  u.Scheme == "https",
		lister:  db.NewLister(d),
		hub:     newHub(cfg.Streams),
	}
	if srv.bulk = cfg.Bulk; srv.bulk == nil {
		srv.bulk = bulk.New(d, inq, log)
	}
	// A row joins its batch after its inquiry changed: the list under the batch filter must not
	// keep a page rendered in between.
	srv.bulk.OnProgress = func(int64) { srv.listCache.changed() }
	inq.OnChange(srv.inquiryChanged)
	return srv, nil
}

// sessionKeys returns the cookie keys as pairs of (authentication, encryption) keys. Configured
// keys win (several allow rotation: the first signs, all verify); otherwise a pair is generated
// once and kept in the database so a restart keeps people signed in.
func sessionKeys(ctx context.Context, d *db.DB, configured []string) ([][]byte, error) {
	if len(configured) == 0 {
		v, err := d.SettingOrInit(ctx, "session_keys", func() (string, error) {
			return randomHex(64) + "," + randomHex(32), nil
		})
		if err != nil {
			return nil, fmt.Errorf("handlers: session keys: %w", err)
		}
		configured = strings.Split(v, ",")
	}
	var keys [][]byte
	for _, k := range configured {
		b, err := hex.DecodeString(strings.TrimSpace(k))
		if err != nil || (len(b) != 32 && len(b) != 64) {
			return nil, fmt.Errorf("handlers: LINKDESK_SESSION_KEYS: each key must be 32 or 64 bytes in hex")
		}
		keys = append(keys, b)
	}
	if len(keys)%2 == 1 {
		keys = append(keys, nil) // last key authenticates only
	}
	return keys, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
