package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
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

// RefuseMode is how the catcher answers the next messages.
type RefuseMode int

const (
	RefuseNone          RefuseMode = iota // accept
	RefuseTemporary                       // 451 4.3.0 at RCPT TO
	RefusePermanent                       // 550 5.1.1 at RCPT TO
	RefuseTemporaryData                   // 451 4.3.0 after the message data
	RefusePermanentData                   // 554 5.6.0 after the message data
)

var refuseNames = []string{"none", "temporary", "permanent", "temporary-data", "permanent-data"}

func (m RefuseMode) String() string {
	if m >= 0 && int(m) < len(refuseNames) {
		return refuseNames[m]
	}
	return "unknown"
}

// ParseRefuseMode reads a mode by its String form (for the dev page's knob).
func ParseRefuseMode(s string) (RefuseMode, error) {
	for i, n := range refuseNames {
		if strings.EqualFold(s, n) {
			return RefuseMode(i), nil
		}
	}
	return RefuseNone, fmt.Errorf("mail: unknown refuse mode %q (known: %s)", s, strings.Join(refuseNames, ", "))
}

// The catcher's refusals, as a real server words them.
var (
	replyTemporary     = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Requested action aborted: try again later"}
	replyPermanent     = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable"}
	replyPermanentData = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message content rejected"}
)

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

// SetRefuse sets how every following message is answered (RefuseNone to accept again), and
// cancels a pending SetRefuseFor.
func (c *Catcher) SetRefuse(mode RefuseMode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refuse, c.refuseN = mode, 0
}

// SetRefuseFor refuses the next n messages with mode; after them the SetRefuse mode applies
// again (accepting, unless set otherwise).
func (c *Catcher) SetRefuseFor(n int, mode RefuseMode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refuseN, c.refuseFor = n, mode
}

// SetDropMidSend makes the catcher drop the connection in the middle of the data of the next n
// messages, without answering: the client sees the connection lost and nothing is accepted.
func (c *Catcher) SetDropMidSend(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop = n
}

// SetQuitDelay makes the catcher wait d before it answers QUIT (the 221 that ends a
// conversation, after the message was accepted), like a server that is slow to let go; a d
// longer than the client's timeout is a server that hangs on QUIT. 0 answers at once again and
// lets every QUIT being held go. Only connections without TLS are held.
func (c *Catcher) SetQuitDelay(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.quitDelay = d
	close(c.quitRelease)
	c.quitRelease = make(chan struct{})
}

// QuitsHeld is how many conversations are waiting, right now, for the answer to their QUIT.
func (c *Catcher) QuitsHeld() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.quitsHeld
}

// holdQuit waits out the QUIT delay, or until SetQuitDelay changes it or the connection closes.
func (c *Catcher) holdQuit(closed <-chan struct{}) {
	c.mu.Lock()
	d, release := c.quitDelay, c.quitRelease
	if d <= 0 {
		c.mu.Unlock()
		return
	}
	c.quitsHeld++
	c.mu.Unlock()
	t := time.NewTimer(d)
	select {
	case <-t.C:
	case <-release:
	case <-closed:
	}
	t.Stop()
	c.mu.Lock()
	c.quitsHeld--
	c.mu.Unlock()
}

// quitListener hands out connections that hold a client's QUIT before go-smtp reads it (go-smtp
// answers QUIT itself, with no hook for the session).
type quitListener struct {
	net.Listener
	c *Catcher
}

func (l *quitListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &quitConn{Conn: conn, c: l.c, lineStart: true, closed: make(chan struct{})}, nil
}

type quitConn struct {
	net.Conn
	c         *Catcher
	lineStart bool // the next byte read starts a line
	closeOnce sync.Once
	closed    chan struct{}
}

// Read passes a chunk that starts a line with QUIT on only after the QUIT delay. Clients send
// QUIT on its own once the message is done, so looking at the start of a chunk is enough.
func (q *quitConn) Read(p []byte) (int, error) {
	n, err := q.Conn.Read(p)
	if n > 0 {
		if q.lineStart && n >= 4 && strings.EqualFold(string(p[:4]), "QUIT") {
			q.c.holdQuit(q.closed)
		}
		q.lineStart = p[n-1] == '\n'
	}
	return n, err
}

func (q *quitConn) Close() error {
	q.closeOnce.Do(func() { close(q.closed) })
	return q.Conn.Close()
}

// SetHoldData makes the catcher hold the next n messages: it reads each one's data but neither
// stores nor answers it until the client hangs up, then discards it, as a real server discards
// an unfinished transaction. The client is left waiting for the reply to its data: the moment
// after which a message is either accepted or not, never half. 0 holds no more (messages
// already held stay held until their client hangs up).
func (c *Catcher) SetHoldData(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.holdData = max(n, 0)
}

// DataHeld is how many messages are being held right now by SetHoldData, their clients
// waiting for an answer.
func (c *Catcher) DataHeld() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dataHeld
}

func (c *Catcher) takeHoldData() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holdData > 0 {
		c.holdData--
		return true
	}
	return false
}

// holdUntilClosed waits, without answering, until the client closes conn (or Close does).
func (c *Catcher) holdUntilClosed(conn net.Conn) {
	c.mu.Lock()
	c.dataHeld++
	c.mu.Unlock()
	conn.SetReadDeadline(time.Time{}) // held for as long as the client waits, not ReadTimeout
	io.Copy(io.Discard, conn)         // a client awaiting its reply sends nothing: this ends at EOF
	conn.Close()
	c.mu.Lock()
	c.dataHeld--
	c.mu.Unlock()
}

// Knobs reports the current settings, for the dev page.
func (c *Catcher) Knobs() (refuse RefuseMode, refuseNext int, refuseNextMode RefuseMode, dropNext int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refuse, c.refuseN, c.refuseFor, c.drop
}

// takeRefusal decides how the message now starting is answered, using up one SetRefuseFor.
func (c *Catcher) takeRefusal() RefuseMode {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refuseN > 0 {
		c.refuseN--
		return c.refuseFor
	}
	return c.refuse
}

func (c *Catcher) takeDrop() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.drop > 0 {
		c.drop--
		return true
	}
	return false
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

type catcherSession struct {
	c      *Catcher
	conn   *smtp.Conn
	user   string
	from   string
	to     []string
	refuse RefuseMode
}

func (s *catcherSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *catcherSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		s.user = username
		return nil
	}), nil
}

func (s *catcherSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from, s.to = from, nil
	s.refuse = s.c.takeRefusal()
	return nil
}

func (s *catcherSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	switch s.refuse {
	case RefuseTemporary:
		return replyTemporary
	case RefusePermanent:
		return replyPermanent
	}
	s.to = append(s.to, to)
	return nil
}

func (s *catcherSession) Data(r io.Reader) error {
	if s.c.takeDrop() {
		// Read a little of the message, then hang up without a reply.
		io.CopyN(io.Discard, r, 64)
		s.conn.Conn().Close()
		return errors.New("catcher: dropped the connection mid-message")
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.c.takeHoldData() {
		s.c.holdUntilClosed(s.conn.Conn())
		return errors.New("catcher: held message discarded: the client hung up")
	}
	switch s.refuse {
	case RefuseTemporaryData:
		return replyTemporary
	case RefusePermanentData:
		return replyPermanentData
	}
	m := parseCaught(raw)
	m.From, m.To, m.AuthUser, m.Received = s.from, append([]string(nil), s.to...), s.user, time.Now()
	_, m.TLS = s.conn.TLSConnectionState()
	return s.c.accept(m)
}

func (s *catcherSession) Reset() {
	s.from, s.to, s.refuse = "", nil, RefuseNone
}

func (s *catcherSession) Logout() error { return nil }

// parseCaught reads the headers and the text and HTML parts of raw. A message it cannot parse
// is kept with what could be read (and Raw).
func parseCaught(raw []byte) Caught {
	m := Caught{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return m
	}
	m.Header = msg.Header
	dec := new(mime.WordDecoder)
	if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		m.Subject = subj
	} else {
		m.Subject = msg.Header.Get("Subject")
	}
	m.MessageID = strings.TrimSpace(msg.Header.Get("Message-Id"))
	walkPart(&m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
	return m
}

func walkPart(m *Caught, contentType, encoding string, body io.Reader, depth int) {
	if depth > 10 {
		return
	}
	if contentType == "" {
		contentType = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walkPart(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1)
		}
	}
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return
	}
	switch {
	case mt == "text/plain" && m.Text == "":
		m.Text = string(b)
	case mt == "text/html" && m.HTML == "":
		m.HTML = string(b)
	}
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
