package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Caught is one message the catcher accepted.
type Caught struct {
	ID        int      // 1, 2, ... in the order received
	From      string   // envelope sender (MAIL FROM)
	To        []string // envelope recipients (RCPT TO)
	AuthUser  string   // the user name the client signed in with, if it did
	TLS       bool     // whether it came over TLS (STARTTLS or implicit)
	Subject   string   // decoded
	Text      string   // the text/plain part, decoded
	HTML      string   // the text/html part, decoded
	MessageID string   // the Message-ID header, with its <>
	Header    mail.Header
	Received  time.Time
	Raw       []byte
}

// maxKept bounds the messages the catcher keeps in memory; Count still counts them all.
const maxKept = 10000

// Catcher is a real SMTP server on localhost for development and tests: it accepts any sender,
// recipient and (PLAIN) sign-in, without TLS, keeps what it receives in memory, and can refuse
// or drop messages on request.
type Catcher struct {
	srv  *smtp.Server
	ln   net.Listener
	done chan struct{}
	log  *slog.Logger
	dir  string // "" keeps the messages in memory only; see catcher_store.go

	acceptMu  sync.Mutex // one message stored and numbered at a time
	mu        sync.Mutex
	msgs      []Caught // oldest first
	total     int
	refuse    RefuseMode
	refuseN   int // the next refuseN messages get refuseFor, then refuse applies again
	refuseFor RefuseMode
	drop      int
	changed   chan struct{} // closed and replaced on every new message

	quitDelay   time.Duration
	quitRelease chan struct{} // closed and replaced by SetQuitDelay: lets held QUITs go
	quitsHeld   int

	holdData int // the next holdData messages are read but neither stored nor answered
	dataHeld int // messages being held right now
}

// StartCatcher listens on addr ("127.0.0.1:0" picks a free port) and serves until Close.
func StartCatcher(addr string) (*Catcher, error) { return startCatcher(addr, nil, nil, false) }

// StartCatcherTLS is StartCatcher with TLS: it offers STARTTLS with cfg, or, when implicit,
// speaks TLS from the first byte (like smtps:// servers). For trying the TLS paths locally.
func StartCatcherTLS(addr string, cfg *tls.Config, implicit bool) (*Catcher, error) {
	if cfg == nil {
		return nil, errors.New("mail: catcher: no TLS config")
	}
	return startCatcher(addr, nil, cfg, implicit)
}

func startCatcher(addr string, logger *slog.Logger, tlsCfg *tls.Config, implicit bool) (*Catcher, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mail: catcher: %w", err)
	}
	if tlsCfg != nil && implicit {
		ln = tls.NewListener(ln, tlsCfg)
	}
	c := &Catcher{ln: ln, done: make(chan struct{}), changed: make(chan struct{}), log: logger,
		quitRelease: make(chan struct{})}
	if !implicit {
		// Watch for QUIT (SetQuitDelay). With implicit TLS the bytes are encrypted here, and
		// go-smtp must see the *tls.Conn itself, so those connections are left alone.
		ln = &quitListener{Listener: ln, c: c}
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(conn *smtp.Conn) (smtp.Session, error) {
		return &catcherSession{c: c, conn: conn}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if tlsCfg != nil && !implicit {
		srv.TLSConfig = tlsCfg
	}
	c.srv = srv
	go func() {
		defer close(c.done)
		srv.Serve(ln)
	}()
	return c, nil
}

// Addr is the address the catcher listens on, e.g. "127.0.0.1:41234".
func (c *Catcher) Addr() string { return c.ln.Addr().String() }

// URL is an SMTP URL for a Sender that delivers to this catcher (without TLS; for a catcher
// started with StartCatcherTLS, build the URL from Addr).
func (c *Catcher) URL() string { return "smtp://" + c.Addr() + "?tls=none" }

// Close stops listening and drops open connections.
func (c *Catcher) Close() {
	c.srv.Close()
	<-c.done
}

// Messages returns the caught messages, newest first.
func (c *Catcher) Messages() []Caught {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Caught, len(c.msgs))
	for i, m := range c.msgs {
		out[len(c.msgs)-1-i] = m
	}
	return out
}

// Message returns the message with the given ID, if it is still kept.
func (c *Catcher) Message(id int) (Caught, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.msgs {
		if m.ID == id {
			return m, true
		}
	}
	return Caught{}, false
}

// Count is how many messages the catcher has accepted since it started.
func (c *Catcher) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// Clear forgets the kept messages (Count keeps counting from where it was).
func (c *Catcher) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = nil
}

// Wait blocks until at least n messages have been accepted or ctx ends.
func (c *Catcher) Wait(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		total, ch := c.total, c.changed
		c.mu.Unlock()
		if total >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("mail: catcher: %d of %d messages: %w", total, n, ctx.Err())
		case <-ch:
		}
	}
}

// accept keeps m: with a folder, on disk before the 250 that Data's return sends.
func (c *Catcher) accept(m Caught) error {
	c.acceptMu.Lock()
	defer c.acceptMu.Unlock()
	if c.dir != "" {
		if err := c.store(c.Count()+1, m); err != nil {
			if c.log != nil {
				c.log.Error("mail catcher: could not store a message; refused it for now", "err", err)
			}
			return replyTemporary
		}
	}
	c.add(m)
	return nil
}

// add numbers m (the number store was given, as accept serialises them) and keeps it.
func (c *Catcher) add(m Caught) Caught {
	c.mu.Lock()
	c.total++
	m.ID = c.total
	c.msgs = append(c.msgs, m)
	if len(c.msgs) > maxKept {
		c.msgs = append([]Caught(nil), c.msgs[len(c.msgs)-maxKept:]...)
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	if c.log != nil {
		c.log.Info("mail catcher: caught an email", "id", m.ID, "to", strings.Join(m.To, ", "), "subject", m.Subject)
	}
	return m
}

// RunCatcher serves a catcher on addr until ctx ends, logging each message it catches (the
// `linkdesk mailcatcher --addr` subcommand). With a dir, the messages are kept there and the
// ones already there are loaded first. With an httpAddr (loopback only), it also serves
// AdminHandler there.
func RunCatcher(ctx context.Context, addr, dir, httpAddr string, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var admin net.Listener
	if httpAddr != "" {
		var err error
		if admin, err = listenAdmin(httpAddr); err != nil {
			return err
		}
		defer admin.Close()
	}
	var c *Catcher
	var err error
	if dir != "" {
		c, err = startCatcherDir(addr, dir, logger)
	} else {
		c, err = startCatcher(addr, logger, nil, false)
	}
	if err != nil {
		return err
	}
	adminAddr := ""
	if admin != nil {
		srv := serveAdmin(c, admin)
		defer srv.Close()
		adminAddr = admin.Addr().String()
	}
	logger.Info("mail catcher listening", "addr", c.Addr(), "smtp_url", c.URL(), "dir", dir, "kept", c.Count(), "http", adminAddr)
	<-ctx.Done()
	c.Close()
	logger.Info("mail catcher stopped", "caught", c.Count())
	return nil
}
