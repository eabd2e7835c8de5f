package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	gomail "github.com/wneessen/go-mail"

	"github.com/linkdesk/linkdesk/db"
)

// Message is one email to one recipient.
type Message struct {
	To        string // "pat@example.com" or "Pat Doe <pat@example.com>"
	Subject   string
	Text      string // the text/plain part
	HTML      string // the text/html part; when empty the email is text only
	MessageID string // "<random@host>"; generated when empty. A retry must reuse it.
}

// Errors a Message can be refused with before anything is sent; both are permanent.
var (
	ErrHeaderInjection = errors.New("contains a line break")
	ErrInvalidAddress  = errors.New("is not a valid email address")
)

// MessageError says which field of a message (or of the From / Reply-To settings) is wrong.
// It is permanent: sending the same message again cannot succeed.
type MessageError struct {
	Field string // "To", "Subject", "From", "Reply-To", "Message-ID", "Body"
	Value string
	Err   error
}

func (e *MessageError) Error() string { return "mail: " + e.words() }

func (e *MessageError) Unwrap() error { return e.Err }

func (e *MessageError) words() string {
	switch {
	case errors.Is(e.Err, ErrInvalidAddress):
		return fmt.Sprintf("the %s address %q %s", e.Field, e.Value, e.Err)
	case errors.Is(e.Err, ErrHeaderInjection):
		return fmt.Sprintf("the %s %s, which is not allowed in an email header", e.Field, e.Err)
	}
	return fmt.Sprintf("the %s %s", e.Field, e.Err)
}

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

// NewMessageID returns a fresh "<random@domain>" Message-ID whose domain is taken from the from
// address (e.g. "Acme <verify@acme.example>" gives "<...@acme.example>").
func NewMessageID(from string) string {
	host := ""
	if a, err := mail.ParseAddress(from); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			host = a.Address[i+1:]
		}
	}
	return db.NewMessageID(host)
}

// validate checks m and returns the parsed recipient and the bare Message-ID (without <>).
func (m Message) validate() (*mail.Address, string, error) {
	to := strings.TrimSpace(m.To)
	if to == "" {
		return nil, "", &MessageError{Field: "To", Err: errors.New("address is missing")}
	}
	rcpt, err := parseAddress("To", to)
	if err != nil {
		return nil, "", err
	}
	if hasControl(m.Subject) {
		return nil, "", &MessageError{Field: "Subject", Value: m.Subject, Err: ErrHeaderInjection}
	}
	id := strings.TrimSpace(m.MessageID)
	if hasControl(id) {
		return nil, "", &MessageError{Field: "Message-ID", Value: id, Err: ErrHeaderInjection}
	}
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	if id != "" && (strings.ContainsAny(id, " <>\t") || !strings.Contains(id, "@")) {
		return nil, "", &MessageError{Field: "Message-ID", Value: m.MessageID, Err: errors.New(`must look like <random@host>`)}
	}
	if strings.TrimSpace(m.Text) == "" && strings.TrimSpace(m.HTML) == "" {
		return nil, "", &MessageError{Field: "body", Err: errors.New("is empty")}
	}
	return rcpt, id, nil
}

// hasControl reports line breaks and other control characters (tab allowed), which would let a
// value end its header and start another.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return r != '\t' && (r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == '\u0085')
	})
}

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

// SendError is a failed delivery: which server, and what went wrong (go-mail's error, which
// wraps the network error or carries the server's reply).
type SendError struct {
	Server   string
	Security Security
	Err      error
}

func (e *SendError) Error() string { return "mail: send via " + e.Server + ": " + e.Err.Error() }

func (e *SendError) Unwrap() error { return e.Err }

// Reply is an SMTP server's refusal: its code and text ("550", "5.1.1 mailbox unavailable").
type Reply struct {
	Code int
	Text string
}

func (r Reply) String() string { return strconv.Itoa(r.Code) + " " + r.Text }

// ServerReply digs the server's refusal out of err; ok is false when the failure was not a reply
// (a network error, for instance).
func ServerReply(err error) (r Reply, ok bool) {
	if err == nil {
		return r, false
	}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return Reply{Code: tp.Code, Text: oneLine(tp.Msg)}, true
	}
	// go-mail's SendError carries the code but does not unwrap to the reply: read its text,
	// "sending SMTP RCPT TO command: 550 5.1.1 mailbox unavailable, affected recipient(s): ...".
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 400 && se.ErrorCode() < 600 {
		code := strconv.Itoa(se.ErrorCode())
		text := se.Error()
		for _, cut := range []string{", affected recipient(s): ", ", affected message ID: "} {
			if i := strings.Index(text, cut); i >= 0 {
				text = text[:i]
			}
		}
		if i := strings.Index(text, ": "+code+" "); i >= 0 {
			text = text[i+len(code)+3:]
		} else if i := strings.Index(text, ": "+code); i >= 0 {
			text = text[i+len(code)+2:]
		}
		// Recent Go quotes the reply text in textproto.Error: unquote it.
		if q, err := strconv.QuotedPrefix(text); err == nil {
			if u, err := strconv.Unquote(q); err == nil {
				text = u
			}
		}
		return Reply{Code: se.ErrorCode(), Text: oneLine(text)}, true
	}
	return r, false
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func isAuthFailure(err error) bool {
	return strings.Contains(err.Error(), "SMTP AUTH failed") ||
		strings.Contains(err.Error(), "does not support SMTP AUTH") ||
		errors.Is(err, gomail.ErrNoSupportedAuthDiscovered) ||
		errors.Is(err, gomail.ErrPlainAuthNotSupported) || errors.Is(err, gomail.ErrLoginAuthNotSupported)
}

// messageLevel reports whether err happened while the message itself was being handed over
// (MAIL FROM, RCPT TO, DATA), rather than while connecting, greeting, securing or signing in.
func messageLevel(err error) bool {
	var se *gomail.SendError
	return errors.As(err, &se)
}

// IsPermanent reports whether sending the same message again cannot succeed: the server refused
// the message with a 5xx reply (to MAIL FROM, RCPT TO or the data), or an address or header is
// invalid. Everything else is transient: connection failures, timeouts, 4xx replies, and
// problems with the connection as a whole (a 5xx greeting, TLS, sign-in), which are settings an
// admin can fix, after which the queue drains on its own.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	var me *MessageError
	if errors.As(err, &me) {
		return true
	}
	r, ok := ServerReply(err)
	return ok && r.Code >= 500 && r.Code < 600 && messageLevel(err)
}

// Explain says in words what went wrong, with the server's reply when there is one, e.g. "The
// mail server refused the message permanently: 550 5.1.1 mailbox unavailable". It never shows
// the password.
func Explain(err error) string {
	if err == nil {
		return ""
	}
	var me *MessageError
	if errors.As(err, &me) {
		w := me.words()
		return strings.ToUpper(w[:1]) + w[1:] + "."
	}
	server := "the mail server"
	var se *SendError
	if errors.As(err, &se) {
		server = "the mail server at " + se.Server
	}
	reply, hasReply := ServerReply(err)
	switch {
	case isAuthFailure(err):
		if hasReply {
			return "The mail server did not accept the SMTP user name or password: " + reply.String()
		}
		return "Could not sign in to the mail server: " + lastPart(err)
	case hasReply && !messageLevel(err):
		return "The mail server refused the connection: " + reply.String()
	case hasReply && reply.Code >= 500:
		return "The mail server refused the message permanently: " + reply.String()
	case hasReply && reply.Code >= 400:
		return "The mail server refused the message for now and it will be tried again: " + reply.String()
	case strings.Contains(err.Error(), "does not support STARTTLS"):
		return "The mail server does not offer STARTTLS, which the SMTP URL requires " +
			"(use smtps:// for TLS, or ?tls=none only for a relay on this machine)."
	case isTLSFailure(err):
		return "Could not set up a secure connection to " + server + ": " + lastPart(err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "Could not connect to " + server + ": the connection was refused (is it running, and is the port right?)."
	case isDNSFailure(err):
		return "Could not find " + server + " (the host name does not resolve)."
	case errors.Is(err, context.Canceled):
		return "Sending was interrupted."
	case isTimeout(err):
		return "The mail server did not answer in time."
	case isConnLost(err):
		return "The connection to the mail server was lost while sending."
	}
	return "Sending failed: " + lastPart(err)
}

// lastPart drops our "mail: send via host:port:" prefix.
func lastPart(err error) string {
	var se *SendError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	return err.Error()
}

func isTLSFailure(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	var ae tls.AlertError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) ||
		errors.As(err, &rh) || errors.As(err, &ae) || strings.Contains(err.Error(), "tls: ")
}

func isDNSFailure(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de)
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return strings.Contains(err.Error(), "i/o timeout")
}

func isConnLost(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	// go-mail's SendError does not unwrap; fall back to its text.
	s := err.Error()
	for _, frag := range []string{"EOF", "connection reset", "broken pipe", "use of closed network connection"} {
		if strings.Contains(s, frag) {
			return true
		}
	}
	return false
}
