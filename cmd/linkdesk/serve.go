package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/bulk"
	"github.com/linkdesk/linkdesk/casework"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/handlers"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/live"
	"github.com/linkdesk/linkdesk/mail"
	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/staff"
)

type serveConfig struct {
	addr, dbPath, baseURL string
	dev                   bool
	sessionKeys           string
	idle, lifetime        time.Duration
	maxSessions           int
	persona               inquiry.Settings
	webhookSecrets        string
	webhookTolerance      time.Duration
	smtpURL               string // the password only from LINKDESK_SMTP_URL
	mailFrom, mailReplyTo string
	reminderEvery         time.Duration
}

func runServe(ctx context.Context, args []string, _ io.Reader, stdout io.Writer) error {
	fs := newFlags("serve", "Start the console.")
	var c serveConfig
	fs.StringVar(&c.addr, "addr", env("ADDR", "127.0.0.1:8080"), "address to listen on [LINKDESK_ADDR]")
	dbPath := dbFlag(fs)
	fs.StringVar(&c.baseURL, "base-url", env("BASE_URL", ""), "public URL of the console, e.g. https://linkdesk.example.com (default http://<addr>) [LINKDESK_BASE_URL]")
	fs.BoolVar(&c.dev, "dev", envBool("DEV", false), "development mode: built-in Persona sandbox and mail catcher, dev pages [LINKDESK_DEV]")
	fs.DurationVar(&c.idle, "idle-timeout", envDuration("IDLE_TIMEOUT", 8*time.Hour), "sign staff out after this long without activity [LINKDESK_IDLE_TIMEOUT]")
	fs.IntVar(&c.maxSessions, "max-sessions-per-account", envInt("MAX_SESSIONS_PER_ACCOUNT", staff.DefaultMaxSessions), "signed-in sessions one staff account keeps; signing in once more ends the one used longest ago [LINKDESK_MAX_SESSIONS_PER_ACCOUNT]")
	fs.DurationVar(&c.lifetime, "session-lifetime", envDuration("SESSION_LIFETIME", 7*24*time.Hour), "sign staff out after this long in any case [LINKDESK_SESSION_LIFETIME]")
	personaFlags(fs, &c.persona)
	fs.DurationVar(&c.webhookTolerance, "webhook-tolerance", envDuration("WEBHOOK_TOLERANCE", 5*time.Minute), "accepted age of a webhook signature [LINKDESK_WEBHOOK_TOLERANCE]")
	fs.StringVar(&c.smtpURL, "smtp-url", "", "SMTP relay, e.g. smtp://mailer@smtp.example.com:587 (STARTTLS) or smtps://...:465; a URL with the password only in LINKDESK_SMTP_URL [LINKDESK_SMTP_URL]")
	fs.StringVar(&c.mailFrom, "mail-from", env("MAIL_FROM", ""), `From of the emails, e.g. "Acme Verification <verify@acme.example>" [LINKDESK_MAIL_FROM]`)
	fs.StringVar(&c.mailReplyTo, "mail-reply-to", env("MAIL_REPLY_TO", ""), "Reply-To of the emails (optional) [LINKDESK_MAIL_REPLY_TO]")
	fs.DurationVar(&c.reminderEvery, "reminder-check", envDuration("REMINDER_CHECK", 10*time.Minute), "how often due reminder emails are looked for [LINKDESK_REMINDER_CHECK]")
	trustedProxy := fs.String("trusted-proxy", env("TRUSTED_PROXY", ""), "reverse proxies whose X-Forwarded-For names the client, as IP addresses or CIDR ranges, comma-separated, e.g. 10.0.0.0/8 (sign-in limits count per client) [LINKDESK_TRUSTED_PROXY]")
	expiringWindow := fs.Duration("expiring-window", envDuration("EXPIRING_WINDOW", 4*time.Hour), `the list's "Expiring soon": open inquiries whose link expires within this [LINKDESK_EXPIRING_WINDOW]`)
	syncEvery := fs.Duration("sync-every", envDuration("SYNC_EVERY", 5*time.Minute), "how often the cache is reconciled with Persona's list of inquiries; 0 turns it off [LINKDESK_SYNC_EVERY]")
	ssoConfig := ssoFlags(fs)
	dbOpts := db.DefaultOptions
	fs.IntVar(&dbOpts.CacheMiB, "db-cache-mb", envInt("DB_CACHE_MB", dbOpts.CacheMiB), "page cache of each database reader connection, in MiB; at most readers (2 a core, 4 at least) times this, used as pages are read [LINKDESK_DB_CACHE_MB]")
	fs.IntVar(&dbOpts.MmapMiB, "db-mmap-mb", envInt("DB_MMAP_MB", dbOpts.MmapMiB), "how much of the database file readers map into memory, in MiB (the operating system's file cache, shared and evictable; a million inquiries are about 1 GiB); 0 turns it off [LINKDESK_DB_MMAP_MB]")
	obs := observeFlags(fs)    // --log-format, --metrics (observe.go)
	repl := replicateFlags(fs) // --replicate-to, --restore-if-missing (replicate.go)
	if err := fs.Parse(args); err != nil {
		return err
	}
	sso, err := ssoConfig()
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if dbOpts.CacheMiB < 1 || dbOpts.MmapMiB < 0 {
		return fmt.Errorf("serve: --db-cache-mb must be at least 1 and --db-mmap-mb at least 0 (got %d and %d)", dbOpts.CacheMiB, dbOpts.MmapMiB)
	}
	if err := obs.check(); err != nil {
		return err
	}
	if err := persona.CheckVersion(c.persona.Version); err != nil {
		return fmt.Errorf("serve: --persona-version: %w", err)
	}
	if *expiringWindow <= 0 {
		return fmt.Errorf("--expiring-window must be a positive duration like 4h, not %s", *expiringWindow)
	}
	if c.maxSessions < 1 {
		return fmt.Errorf("serve: --max-sessions-per-account must be at least 1 (got %d)", c.maxSessions)
	}
	proxies, err := handlers.ParseTrustedProxies(*trustedProxy)
	if err != nil {
		return fmt.Errorf("serve: --trusted-proxy: %w", err)
	}
	if hasPassword(c.smtpURL) {
		return errors.New("serve: --smtp-url must not contain the password, which process listings would show: set the whole URL in LINKDESK_SMTP_URL instead")
	}
	// Secrets come from the environment only, so they stay out of process listings.
	if c.smtpURL == "" {
		c.smtpURL = os.Getenv("LINKDESK_SMTP_URL")
	}
	c.persona.APIKey = os.Getenv("LINKDESK_PERSONA_API_KEY")
	c.webhookSecrets = os.Getenv("LINKDESK_PERSONA_WEBHOOK_SECRETS") // comma-separated: several during rotation
	c.sessionKeys = os.Getenv("LINKDESK_SESSION_KEYS")               // comma-separated hex; default: generated and kept in the database
	c.dbPath = *dbPath
	log := obs.logger(stdout)

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", c.addr, err)
	}
	if c.baseURL == "" {
		c.baseURL = "http://" + ln.Addr().String()
	}
	c.baseURL = strings.TrimRight(c.baseURL, "/")

	if err := repl.prepare(ctx, c.dbPath, log); err != nil {
		return err
	}
	d, err := db.OpenWith(ctx, c.dbPath, dbOpts)
	if err != nil {
		return err
	}
	defer d.Close()
	rp, err := repl.start(ctx, c.dbPath, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := rp.stop(); err != nil {
			log.Error("replication: final sync", "err", err)
		}
	}()

	var keys []string
	if c.sessionKeys != "" {
		keys = strings.Split(c.sessionKeys, ",")
	}
	base := c.persona
	secrets := splitList(c.webhookSecrets)
	var dev *devStack
	if c.dev {
		if dev, err = startDev(c.baseURL, c.persona.Version, log); err != nil {
			return err
		}
		defer dev.close()
		base = dev.settings(base)
		secrets = append(secrets, dev.secret)
	}
	settings, err := inquiry.LoadSettings(ctx, d, base)
	if err != nil {
		return err
	}
	sender, err := mailSender(c, dev, log)
	if err != nil {
		return err
	}

	// Every background loop runs in this group; it stops after the HTTP server and before the
	// database closes (deferred in that order: HTTP shutdown below, loops, dev stack, db).
	loops := newGroup(ctx, log)
	defer loops.stop(30 * time.Second)

	// The path of a change, from a webhook (or a sync, a staff action, an email) to the open
	// list page: the inquiry service and the outbox worker publish the inquiry's id to the live
	// hub; the hub has the list's counts recounted and wakes every open page's stream.
	hub := live.New(live.Limits{})
	lister := db.NewLister(d, hub.Version)
	worker := &mail.Worker{DB: d, Sender: sender, Logger: log, Notify: hub.Publish,
		Backoff: envDuration("MAIL_BACKOFF", 0)} // the first retry's wait; default 30 s
	var inq *inquiry.Service
	metricsSink, personaObserver := obs.registry(d, hub, func() time.Time { return inq.SyncStatus().LastOK }, rp.status())
	inq = inquiry.New(d, settings, log, inquiry.Deps{
		Changes:         hub,
		Mail:            inquiry.MailSetup{Sender: sender, Worker: worker},
		Go:              loops.Go, // the webhook drainer
		PersonaObserver: personaObserver,
	})
	var mailbox *mail.Catcher // the Mailbox page's, in dev mode only
	if dev != nil {
		mailbox = dev.catcher
		if err := inq.RegisterTemplates(ctx, dev.templates()); err != nil {
			return err
		}
	}
	staffSvc := staff.New(d) // staff accounts, sessions, setup and templates
	staffSvc.SetMaxSessions(c.maxSessions)
	// Bulk send creates and emails through the same service; a row joining its batch refreshes
	// the list's cached pages and counts.
	bulkEngine := bulk.New(d, inq, log)
	bulkEngine.Lease = envDuration("BULK_LEASE", 0) // how long a half-done row waits after a crash; default 30 s
	bulkEngine.OnProgress = func(int64) { hub.Touch() }
	cases := casework.New(d, inq, hub, log)
	cases.BaseURL = c.baseURL
	srv, err := handlers.New(ctx, handlers.Config{
		BaseURL: c.baseURL, SessionKeys: keys, IdleTimeout: c.idle, MaxLifetime: c.lifetime, Dev: c.dev,
		WebhookSecrets: secrets, WebhookTolerance: c.webhookTolerance, TrustedProxies: proxies,
		ExpiringWindow: *expiringWindow, SSO: sso, MetricsToken: obs.token, MetricsAllow: obs.allowNets,
	}, handlers.Deps{DB: d, Inquiries: inq, Live: hub, Lister: lister, Mailbox: mailbox, Staff: staffSvc, Bulk: bulkEngine, Casework: cases, Log: log, Metrics: metricsSink, Replication: rp.status()})
	if err != nil {
		return err
	}

	loops.Loop(func(ctx context.Context) {
		if err := worker.Run(ctx); err != nil {
			log.Error("mail: worker", "err", err)
		}
	})
	loops.Loop(func(ctx context.Context) { inq.RunReminders(ctx, c.reminderEvery) })
	loops.Loop(func(ctx context.Context) { inq.RunReconciler(ctx, *syncEvery) })
	loops.Loop(func(ctx context.Context) { expireSessions(ctx, d, c.idle, c.lifetime, log) })
	loops.Loop(bulkEngine.Run) // resumes unfinished bulk sends after a restart
	// Once at start: warn in the log about webhook settings at Persona the console cannot use.
	loops.Loop(func(ctx context.Context) { inq.LogWebhookSettings(ctx, c.baseURL+handlers.WebhookPath) })
	if rp != nil {
		loops.Loop(func(ctx context.Context) { rp.watch(ctx, log) }) // replicate_watch.go
	}
	// Settings → Data retention: personal data of long-finished inquiries, hourly (off by default).
	loops.Loop(func(ctx context.Context) { inq.RunRetention(ctx, time.Hour) })

	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: server-sent event streams stay open; handlers bound their own work.
	}
	hs.RegisterOnShutdown(hub.Close) // live streams never go idle by themselves
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	fmt.Fprintf(stdout, "\nLinkdesk is running at %s/\n", c.baseURL)
	tok, err := staffSvc.SetupToken(ctx)
	if err != nil && ctx.Err() == nil { // a stop during start-up is a stop, not a failure
		hs.Close()
		return err
	}
	if tok != "" {
		fmt.Fprintf(stdout, "First run: create the admin account at %s/setup?token=%s\n", c.baseURL, tok)
	}
	fmt.Fprintln(stdout)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	return nil
}

// personaFlags declares the Persona settings shared by serve and sync. The API key is read from
// LINKDESK_PERSONA_API_KEY only.
func personaFlags(fs *flag.FlagSet, st *inquiry.Settings) {
	fs.StringVar(&st.APIBaseURL, "persona-api-url", env("PERSONA_API_URL", ""), "Persona API base URL (default https://api.withpersona.com/api/v1) [LINKDESK_PERSONA_API_URL]")
	fs.StringVar(&st.HostedURL, "persona-hosted-url", env("PERSONA_HOSTED_URL", ""), "hosted-flow base URL, for a custom subdomain (default https://inquiry.withpersona.com) [LINKDESK_PERSONA_HOSTED_URL]")
	fs.StringVar(&st.EnvironmentID, "persona-environment-id", env("PERSONA_ENVIRONMENT_ID", ""), "Persona environment id (env_...), for template links [LINKDESK_PERSONA_ENVIRONMENT_ID]")
	fs.StringVar(&st.Version, "persona-version", env("PERSONA_VERSION", ""), "Persona-Version the client sends: 2023-01-05, 2025-10-27 or 2025-12-08 (default "+persona.DefaultVersion+"); with --dev also the built-in sandbox's webhook version [LINKDESK_PERSONA_VERSION]")
	fs.BoolVar(&st.RequireReference, "require-reference-id", envBool("REQUIRE_REFERENCE_ID", true), "require a reference ID on new inquiries [LINKDESK_REQUIRE_REFERENCE_ID]")
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func hasPassword(rawURL string) bool {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return strings.Contains(rawURL, "@") // unreadable: refuse rather than risk it
	}
	_, ok := u.User.Password()
	return ok
}

// mailSender is the SMTP sender, or nil without an SMTP URL: emails then wait in the outbox.
// In dev mode emails go to the built-in catcher.
func mailSender(c serveConfig, dev *devStack, log *slog.Logger) (*mail.Sender, error) {
	smtpURL, from := c.smtpURL, c.mailFrom
	if dev != nil {
		smtpURL = dev.catcher.URL()
		if from == "" {
			from = "Linkdesk <linkdesk@localhost>"
		}
	}
	if smtpURL == "" {
		log.Warn("mail: no SMTP server configured (LINKDESK_SMTP_URL, LINKDESK_MAIL_FROM); emails wait in the outbox")
		return nil, nil
	}
	cfg, err := mail.ParseConfig(smtpURL, from, c.mailReplyTo)
	if err != nil {
		return nil, fmt.Errorf("serve: SMTP settings: %w", err)
	}
	sender, err := mail.NewSender(cfg)
	if err != nil {
		return nil, fmt.Errorf("serve: SMTP settings: %w", err)
	}
	log.Info("mail: sending through", "smtp", cfg) // Config.LogValue leaves the password out
	return sender, nil
}

// expireSessions deletes sessions past their idle timeout or lifetime, so the table does not
// grow without bound (expired ones are refused on use regardless).
func expireSessions(ctx context.Context, d *db.DB, idle, lifetime time.Duration, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		now := time.Now()
		if _, err := d.DeleteExpiredSessions(ctx, now.Add(-idle), now.Add(-lifetime)); err != nil && ctx.Err() == nil {
			log.Warn("expire sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
