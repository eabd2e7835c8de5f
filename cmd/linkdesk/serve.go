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
	"sync"
	"time"

	"github.com/linkdesk/linkdesk/bulk"
	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/handlers"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/mail"
	"github.com/linkdesk/linkdesk/persona"
)

type serveConfig struct {
	addr, dbPath, baseURL string
	dev                   bool
	sessionKeys           string
	idle, lifetime        time.Duration
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
	fs.DurationVar(&c.lifetime, "session-lifetime", envDuration("SESSION_LIFETIME", 7*24*time.Hour), "sign staff out after this long in any case [LINKDESK_SESSION_LIFETIME]")
	personaFlags(fs, &c.persona)
	fs.DurationVar(&c.webhookTolerance, "webhook-tolerance", envDuration("WEBHOOK_TOLERANCE", 5*time.Minute), "accepted age of a webhook signature [LINKDESK_WEBHOOK_TOLERANCE]")
	fs.StringVar(&c.smtpURL, "smtp-url", "", "SMTP relay, e.g. smtp://mailer@smtp.example.com:587 (STARTTLS) or smtps://...:465; a URL with the password only in LINKDESK_SMTP_URL [LINKDESK_SMTP_URL]")
	fs.StringVar(&c.mailFrom, "mail-from", env("MAIL_FROM", ""), `From of the emails, e.g. "Acme Verification <verify@acme.example>" [LINKDESK_MAIL_FROM]`)
	fs.StringVar(&c.mailReplyTo, "mail-reply-to", env("MAIL_REPLY_TO", ""), "Reply-To of the emails (optional) [LINKDESK_MAIL_REPLY_TO]")
	fs.DurationVar(&c.reminderEvery, "reminder-check", envDuration("REMINDER_CHECK", 10*time.Minute), "how often due reminder emails are looked for [LINKDESK_REMINDER_CHECK]")
	syncEvery := fs.Duration("sync-every", envDuration("SYNC_EVERY", 5*time.Minute), "how often the cache is reconciled with Persona's list of inquiries; 0 turns it off [LINKDESK_SYNC_EVERY]")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := persona.CheckVersion(c.persona.Version); err != nil {
		return fmt.Errorf("serve: --persona-version: %w", err)
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
	log := newLogger(stdout)

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", c.addr, err)
	}
	if c.baseURL == "" {
		c.baseURL = "http://" + ln.Addr().String()
	}
	c.baseURL = strings.TrimRight(c.baseURL, "/")

	d, err := db.Open(ctx, c.dbPath)
	if err != nil {
		return err
	}
	defer d.Close()

	var keys []string
	if c.sessionKeys != "" {
		keys = strings.Split(c.sessionKeys, ",")
	}
	base := c.persona
	secrets := splitList(c.webhookSecrets)
	var dev *devStack
	if c.dev {
		if dev, err = startDev(c.baseURL, log); err != nil {
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
	inq := inquiry.New(d, settings, log)
	if dev != nil {
		if err := inq.RegisterTemplates(ctx, dev.templates()); err != nil {
			return err
		}
	}
	stopMail, err := startMail(ctx, c, d, inq, dev, log)
	if err != nil {
		return err
	}
	defer stopMail()
	bulkEngine := bulk.New(d, inq, log)
	bulkEngine.Lease = envDuration("BULK_LEASE", 0) // how long a half-done row waits after a crash; default 30 s
	srv, err := handlers.New(ctx, handlers.Config{
		BaseURL: c.baseURL, SessionKeys: keys, IdleTimeout: c.idle, MaxLifetime: c.lifetime, Dev: c.dev,
		WebhookSecrets: secrets, WebhookTolerance: c.webhookTolerance, Bulk: bulkEngine,
	}, d, inq, log)
	if err != nil {
		return err
	}

	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: server-sent event streams stay open; handlers bound their own work.
	}
	hs.RegisterOnShutdown(srv.CloseStreams) // live streams never go idle by themselves
	// Background loops end with ctx; waiting for them here runs before the database closes.
	var bg sync.WaitGroup
	defer bg.Wait()
	bg.Go(func() { inq.RunReconciler(ctx, *syncEvery) })
	bg.Go(func() { expireSessions(ctx, d, c.idle, c.lifetime, log) })
	bg.Go(func() { bulkEngine.Run(ctx) }) // resumes unfinished bulk sends after a restart
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()

	fmt.Fprintf(stdout, "\nLinkdesk is running at %s/\n", c.baseURL)
	tok, err := handlers.SetupToken(ctx, d)
	if err != nil {
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
	fs.StringVar(&st.Version, "persona-version", env("PERSONA_VERSION", ""), "Persona-Version header (default 2023-01-05) [LINKDESK_PERSONA_VERSION]")
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

// startMail starts the outbox worker (and the reminder loop) and tells the service about them.
// Without an SMTP URL the worker runs without a sender: emails wait in the outbox. In dev mode
// emails go to the built-in catcher. The returned stop lets the email being sent finish.
func startMail(ctx context.Context, c serveConfig, d *db.DB, inq *inquiry.Service, dev *devStack, log *slog.Logger) (stop func(), err error) {
	smtpURL, from := c.smtpURL, c.mailFrom
	if dev != nil {
		smtpURL = dev.catcher.URL()
		if from == "" {
			from = "Linkdesk <linkdesk@localhost>"
		}
	}
	var sender *mail.Sender
	if smtpURL != "" {
		cfg, err := mail.ParseConfig(smtpURL, from, c.mailReplyTo)
		if err != nil {
			return nil, fmt.Errorf("serve: SMTP settings: %w", err)
		}
		if sender, err = mail.NewSender(cfg); err != nil {
			return nil, fmt.Errorf("serve: SMTP settings: %w", err)
		}
		log.Info("mail: sending through", "smtp", cfg) // Config.LogValue leaves the password out
	} else {
		log.Warn("mail: no SMTP server configured (LINKDESK_SMTP_URL, LINKDESK_MAIL_FROM); emails wait in the outbox")
	}
	w := &mail.Worker{DB: d, Sender: sender, Logger: log, Notify: inq.EmailChanged}
	ms := inquiry.MailSetup{Sender: sender, Worker: w}
	if dev != nil {
		ms.Catcher = dev.catcher
	}
	inq.SetMail(ms)

	// Not canceled by the shutdown signal itself: requests still being served may queue
	// emails, so the worker stops after the HTTP server (stop, deferred).
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(bg); err != nil {
			log.Error("mail: worker", "err", err)
		}
	}()
	go inq.RunReminders(bg, c.reminderEvery)
	return func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			log.Warn("mail: the worker did not stop in time; an email mid-send is sent again at the next start")
		}
	}, nil
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
