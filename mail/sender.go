package mail

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	gomail "github.com/wneessen/go-mail"
)

// Sender delivers messages over SMTP with go-mail. It is safe for concurrent use: every Send
// opens its own connection.
type Sender struct {
	cfg Config
	ep  endpoint
	tls *tls.Config
}

// NewSender validates c and returns a Sender for it. Nothing is dialed until Send.
func NewSender(c Config) (*Sender, error) {
	ep, err := c.parse()
	if err != nil {
		return nil, err
	}
	var tc *tls.Config
	if c.TLSConfig != nil {
		tc = c.TLSConfig.Clone()
	} else {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if tc.ServerName == "" {
		tc.ServerName = ep.host
	}
	return &Sender{cfg: c, ep: ep, tls: tc}, nil
}

// Config returns the configuration the Sender was made from.
func (s *Sender) Config() Config { return s.cfg }

// NewMessageID returns a fresh "<random@domain>" Message-ID for mail from this Sender's From
// address.
func (s *Sender) NewMessageID() string { return NewMessageID(s.ep.from.Address) }

// Send delivers m and returns nil once the server has accepted it (its 250 reply to the end of
// the data). The returned error is for IsPermanent and Explain.
//
// Canceling ctx aborts the conversation by closing the connection; canceled after the data was
// sent but before the reply was read, the message may have been accepted all the same. The
// outbox worker therefore never cancels a send that has started (it waits for the reply,
// bounded by the timeouts).
func (s *Sender) Send(ctx context.Context, m Message) error { return s.SendThen(ctx, m, nil) }

// SendThen is Send that calls accepted (when not nil) the moment the server has accepted the
// message, before the QUIT that ends the conversation: a caller that records the send in
// accepted has it recorded even when the server is slow to answer QUIT or the process dies
// meanwhile. Anything failing after acceptance (QUIT) is not a failed send: the result is nil.
func (s *Sender) SendThen(ctx context.Context, m Message, accepted func()) error {
	rcpt, id, err := m.validate()
	if err != nil {
		return err
	}
	if id == "" {
		id = strings.Trim(s.NewMessageID(), "<>")
	}

	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.ep.from)
	if s.ep.replyTo != nil {
		msg.ReplyToMailAddress(s.ep.replyTo)
	}
	msg.AddToMailAddress(rcpt)
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(id)
	msg.SetDate()
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.HTML != "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	}

	// Our own dialer, so the connection can be closed when ctx is canceled and after a failed
	// handshake (go-mail leaves it open then). The conn is returned unwrapped: go-mail detects
	// TLS by its type.
	var conn connHolder
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{Timeout: s.ep.timeout}
		var c net.Conn
		var err error
		if s.ep.security == ImplicitTLS {
			c, err = (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(ctx, network, addr)
		} else {
			c, err = d.DialContext(ctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		conn.set(c)
		return c, nil
	}
	opts := []gomail.Option{
		gomail.WithPort(s.ep.port),
		gomail.WithTimeout(s.ep.timeout),
		gomail.WithTLSConfig(s.tls),
		gomail.WithDialContextFunc(dial),
		gomail.WithoutNoop(),
	}
	switch s.ep.security {
	case StartTLSRequired:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case StartTLSOptional:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case ImplicitTLS:
		// The dialer speaks TLS already; no STARTTLS on top.
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSPolicy(gomail.NoTLS))
	case NoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.ep.user != "" {
		opts = append(opts, gomail.WithUsername(s.ep.user), gomail.WithPassword(s.ep.pass),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin,
				gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthCramMD5))
	}
	// One message per connection, so no RSET after it: the next thing after the server's 250 is
	// accepted, then QUIT.
	opts = append(opts, gomail.WithoutRset())
	client, err := gomail.NewClient(s.ep.host, opts...)
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	stop := context.AfterFunc(ctx, conn.close)
	defer func() {
		stop()
		conn.close() // after QUIT this changes nothing; after a failure it frees the socket
	}()
	sendErr := func(err error) error {
		return &SendError{Server: net.JoinHostPort(s.ep.host, strconv.Itoa(s.ep.port)), Security: s.ep.security, Err: err}
	}
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return sendErr(fmt.Errorf("dial failed: %w", err))
	}
	if err := client.SendWithSMTPClient(sc, msg); err != nil && !msg.IsDelivered() {
		client.CloseWithSMTPClient(sc) // a polite QUIT; the send's error is the one that counts
		return sendErr(fmt.Errorf("send failed: %w", err))
	}
	if accepted != nil {
		accepted()
	}
	client.CloseWithSMTPClient(sc) // QUIT: the message is accepted whatever the server answers
	return nil
}

// connHolder closes the connection of one Send from another goroutine.
type connHolder struct {
	mu     sync.Mutex
	c      net.Conn
	closed bool
}

func (h *connHolder) set(c net.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.c = c
	if h.closed {
		c.Close()
	}
}

func (h *connHolder) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if h.c != nil {
		h.c.Close()
	}
}
