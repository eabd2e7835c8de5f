package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/handlers"
)

type serveConfig struct {
	addr, dbPath, baseURL string
	dev                   bool
	sessionKeys           string
	idle, lifetime        time.Duration
}

func runServe(ctx context.Context, args []string, _ io.Reader, stdout io.Writer) error {
	fs := newFlags("serve", "Start the console.")
	var c serveConfig
	fs.StringVar(&c.addr, "addr", env("ADDR", "127.0.0.1:8080"), "address to listen on [LINKDESK_ADDR]")
	dbPath := dbFlag(fs)
	fs.StringVar(&c.baseURL, "base-url", env("BASE_URL", ""), "public URL of the console, e.g. https://linkdesk.example.com (default http://<addr>) [LINKDESK_BASE_URL]")
	fs.BoolVar(&c.dev, "dev", envBool("DEV", false), "development mode: built-in Persona sandbox and mail catcher, dev pages [LINKDESK_DEV]")
	fs.StringVar(&c.sessionKeys, "session-keys", env("SESSION_KEYS", ""), "comma-separated hex cookie keys (default: generated and kept in the database) [LINKDESK_SESSION_KEYS]")
	fs.DurationVar(&c.idle, "idle-timeout", envDuration("IDLE_TIMEOUT", 8*time.Hour), "sign staff out after this long without activity [LINKDESK_IDLE_TIMEOUT]")
	fs.DurationVar(&c.lifetime, "session-lifetime", envDuration("SESSION_LIFETIME", 7*24*time.Hour), "sign staff out after this long in any case [LINKDESK_SESSION_LIFETIME]")
	if err := fs.Parse(args); err != nil {
		return err
	}
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
	srv, err := handlers.New(ctx, handlers.Config{
		BaseURL: c.baseURL, SessionKeys: keys, IdleTimeout: c.idle, MaxLifetime: c.lifetime, Dev: c.dev,
	}, d, log)
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
