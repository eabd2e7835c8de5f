package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"syscall"

	gomail "github.com/wneessen/go-mail"
)

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
