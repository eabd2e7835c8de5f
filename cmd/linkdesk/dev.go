package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/mail"
	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// devStack is what `serve --dev` starts beside the console: the built-in Persona sandbox
// and mail catcher, both on loopback ports of their own.
type devStack struct {
	sandbox    *sandbox.Sandbox
	sandboxURL string
	srv        *http.Server
	catcher    *mail.Catcher
	secret     string
}

// startDev starts the sandbox (sending its webhooks to the console at baseURL with a fresh
// secret, in the console's Persona-Version, as a webhook made by the console's own calls
// would be) and the mail catcher.
func startDev(baseURL, version string, log *slog.Logger) (*devStack, error) {
	if version == "" {
		version = persona.DefaultVersion
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("dev: sandbox listen: %w", err)
	}
	d := &devStack{sandboxURL: "http://" + ln.Addr().String(), secret: "wbhsec_" + randomToken(24)}
	d.sandbox = sandbox.New(sandbox.Options{
		PublicURL: d.sandboxURL, WebhookURL: baseURL + "/webhooks/persona", WebhookSecret: d.secret,
		WebhookVersion: version, InquiryExpiry: envDuration("SANDBOX_EXPIRY", 24*time.Hour),
	})
	d.srv = &http.Server{Handler: d.sandbox, ReadHeaderTimeout: 10 * time.Second}
	go d.srv.Serve(ln)
	if d.catcher, err = mail.StartCatcher("127.0.0.1:0"); err != nil {
		d.close()
		return nil, fmt.Errorf("dev: mail catcher: %w", err)
	}
	log.Info("dev mode: built-in Persona sandbox and mail catcher", "sandbox", d.sandboxURL, "smtp", d.catcher.Addr())
	return d, nil
}

// settings points the console at the sandbox.
func (d *devStack) settings(st inquiry.Settings) inquiry.Settings {
	st.Dev = true
	st.APIKey = sandbox.DefaultAPIKey
	st.APIBaseURL = d.sandboxURL + "/api/v1"
	st.HostedURL = d.sandboxURL
	st.EnvironmentID = sandbox.EnvironmentID
	return st
}

func (d *devStack) templates() []db.Template {
	var ts []db.Template
	for _, t := range d.sandbox.Templates() {
		ts = append(ts, db.Template{ID: t.ID, Name: t.Name})
	}
	return ts
}

func (d *devStack) close() {
	if d.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		d.srv.Shutdown(ctx)
		cancel()
	}
	if d.sandbox != nil {
		d.sandbox.Close()
	}
	if d.catcher != nil {
		d.catcher.Close()
	}
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func runSandbox(ctx context.Context, args []string, _ io.Reader, stdout io.Writer) error {
	fs := newFlags("sandbox", "Run the built-in Persona sandbox: Persona's API, a hosted flow and signed webhooks, for development and tests.")
	addr := fs.String("addr", env("SANDBOX_ADDR", "127.0.0.1:8091"), "address to listen on [LINKDESK_SANDBOX_ADDR]")
	key := fs.String("api-key", env("SANDBOX_API_KEY", sandbox.DefaultAPIKey), "API key the sandbox accepts [LINKDESK_SANDBOX_API_KEY]")
	hook := fs.String("webhook-url", env("SANDBOX_WEBHOOK_URL", ""), "where to send webhook events [LINKDESK_SANDBOX_WEBHOOK_URL]")
	var secrets listFlag
	if v := env("SANDBOX_WEBHOOK_SECRET", ""); v != "" {
		secrets = splitList(v)
	}
	fs.Var(&secrets, "webhook-secret", "secret that signs webhook events; repeat it (or comma-separate) while rotating: each delivery is then signed with every one [LINKDESK_SANDBOX_WEBHOOK_SECRET]")
	version := fs.String("webhook-version", env("SANDBOX_WEBHOOK_VERSION", sandbox.DefaultVersion), "API version of the webhook's payloads: "+strings.Join(sandbox.Versions, ", ")+" [LINKDESK_SANDBOX_WEBHOOK_VERSION]")
	inflection := fs.String("webhook-key-inflection", env("SANDBOX_WEBHOOK_KEY_INFLECTION", "kebab"), "key inflection of the webhook's payloads: kebab, snake or camel [LINKDESK_SANDBOX_WEBHOOK_KEY_INFLECTION]")
	public := fs.String("public-url", env("SANDBOX_PUBLIC_URL", ""), "the sandbox's public URL for links (default http://<addr>) [LINKDESK_SANDBOX_PUBLIC_URL]")
	expiry := fs.Duration("expiry", envDuration("SANDBOX_EXPIRY", 24*time.Hour), "inquiry expiry interval [LINKDESK_SANDBOX_EXPIRY]")
	state := fs.String("state", env("SANDBOX_STATE", ""), "file that keeps the sandbox's state across restarts, written before each answer; empty: in memory only [LINKDESK_SANDBOX_STATE]")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *hook != "" && len(secrets) == 0 {
		return errors.New("sandbox: --webhook-url needs --webhook-secret to sign the events")
	}
	if !slices.Contains(sandbox.Versions, *version) {
		return fmt.Errorf("sandbox: --webhook-version %q is not one the sandbox speaks: use %s", *version, strings.Join(sandbox.Versions, ", "))
	}
	if !slices.Contains(sandbox.Inflections, *inflection) {
		return fmt.Errorf("sandbox: --webhook-key-inflection %q: use kebab, snake or camel", *inflection)
	}
	opts := sandbox.Options{APIKey: *key, WebhookURL: *hook, PublicURL: *public, InquiryExpiry: *expiry, StateFile: *state,
		WebhookVersion: *version, WebhookKeyInflection: *inflection}
	if len(secrets) > 0 {
		opts.WebhookSecret, opts.WebhookSecrets = secrets[0], secrets[1:]
	}
	return sandbox.Run(ctx, *addr, opts, newLogger(stdout))
}

// listFlag collects a repeated flag's values (each may be comma-separated).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, splitList(v)...)
	return nil
}

func runMailcatcher(ctx context.Context, args []string, _ io.Reader, stdout io.Writer) error {
	fs := newFlags("mailcatcher", "Run the built-in SMTP mail catcher: it accepts every message and keeps it in memory, or with --dir on disk.")
	addr := fs.String("addr", env("MAILCATCHER_ADDR", "127.0.0.1:2525"), "address to listen on [LINKDESK_MAILCATCHER_ADDR]")
	dir := fs.String("dir", env("MAILCATCHER_DIR", ""), "folder that keeps each message, written before it is accepted, and loaded at start; empty: in memory only [LINKDESK_MAILCATCHER_DIR]")
	admin := fs.String("http", env("MAILCATCHER_HTTP", ""), "loopback address for an admin listener (POST /knobs {\"hold-data\": N}, GET /stats), for tests; empty: none [LINKDESK_MAILCATCHER_HTTP]")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return mail.RunCatcher(ctx, *addr, *dir, *admin, newLogger(stdout))
}
