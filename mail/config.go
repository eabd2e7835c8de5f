// Package mail delivers the console's emails: SMTP delivery with go-mail (Sender), the durable
// outbox worker that drains db's outbox with retries and backoff (Worker), the link email
// templates (Render), and a real SMTP catcher for development and tests (Catcher).
package mail

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Security is how a Sender protects its connection to the mail server.
type Security int

const (
	// StartTLSRequired connects in plain text and upgrades with STARTTLS; a server that does not
	// offer STARTTLS is refused. The default for smtp:// URLs.
	StartTLSRequired Security = iota
	// ImplicitTLS speaks TLS from the first byte (smtps://, usually port 465).
	ImplicitTLS
	// StartTLSOptional upgrades with STARTTLS when the server offers it and otherwise carries on
	// in plain text (?starttls=optional).
	StartTLSOptional
	// NoTLS never encrypts (?tls=none): only for a relay or catcher on the same machine or a
	// trusted network.
	NoTLS
)

func (s Security) String() string {
	switch s {
	case StartTLSRequired:
		return "STARTTLS required"
	case ImplicitTLS:
		return "implicit TLS"
	case StartTLSOptional:
		return "STARTTLS when offered"
	case NoTLS:
		return "no TLS"
	}
	return "unknown"
}

// DefaultTimeout bounds connecting and each SMTP command when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Config says how to reach the mail server and who the emails come from.
//
// URL forms:
//
//	smtp://user:pass@smtp.example.com:587          STARTTLS required (the default; port 587 if omitted)
//	smtps://user:pass@smtp.example.com:465         TLS from the start (port 465 if omitted)
//	smtp://relay.internal:25?starttls=optional     STARTTLS when offered, else plain
//	smtp://127.0.0.1:2525?tls=none                 no TLS: a local relay or the dev catcher
//
// Special characters in the user name or password must be percent-encoded (@ as %40). The
// password is never shown: String, LogValue and every error leave it out.
type Config struct {
	URL     string
	From    string // "Acme Verification <verify@acme.example>" or a bare address
	ReplyTo string // optional
	// Timeout bounds connecting and each SMTP command; zero means DefaultTimeout.
	Timeout time.Duration
	// TLSConfig, when set, is used for TLS (e.g. to trust a private CA); its ServerName defaults
	// to the URL's host.
	TLSConfig *tls.Config
}

// endpoint is a parsed and validated Config.
type endpoint struct {
	host     string
	port     int
	user     string
	pass     string
	security Security
	from     *mail.Address
	replyTo  *mail.Address
	timeout  time.Duration
}

// ParseConfig builds a Config from its parts and validates it; the error says in words what is
// wrong, without the password.
func ParseConfig(rawURL, from, replyTo string) (Config, error) {
	c := Config{URL: strings.TrimSpace(rawURL), From: strings.TrimSpace(from), ReplyTo: strings.TrimSpace(replyTo)}
	if _, err := c.parse(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate reports what is wrong with c, in words, or nil.
func (c Config) Validate() error {
	_, err := c.parse()
	return err
}

// Security reports how the connection will be protected; StartTLSRequired for an invalid URL.
func (c Config) Security() Security {
	ep, err := c.parseURL()
	if err != nil {
		return StartTLSRequired
	}
	return ep.security
}

// ConfigError is a problem with the SMTP settings, in words.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return "mail: " + e.Msg }

func configErr(format string, args ...any) error {
	return &ConfigError{Msg: fmt.Sprintf(format, args...)}
}

func (c Config) parse() (endpoint, error) {
	ep, err := c.parseURL()
	if err != nil {
		return ep, err
	}
	if c.From == "" {
		return ep, configErr("the From address is missing")
	}
	if ep.from, err = parseAddress("From", c.From); err != nil {
		return ep, err
	}
	if c.ReplyTo != "" {
		if ep.replyTo, err = parseAddress("Reply-To", c.ReplyTo); err != nil {
			return ep, err
		}
	}
	if c.Timeout < 0 {
		return ep, configErr("the timeout must not be negative")
	}
	ep.timeout = c.Timeout
	if ep.timeout == 0 {
		ep.timeout = DefaultTimeout
	}
	return ep, nil
}

func (c Config) parseURL() (endpoint, error) {
	var ep endpoint
	raw := strings.TrimSpace(c.URL)
	if raw == "" {
		return ep, configErr("the SMTP URL is missing (for example smtp://user:password@smtp.example.com:587)")
	}
	if strings.ContainsAny(raw, "\r\n") {
		return ep, configErr("the SMTP URL contains a line break")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URL, password included: keep only the reason.
		var ue *url.Error
		reason := "it could not be read"
		if errors.As(err, &ue) {
			reason = strings.TrimPrefix(ue.Err.Error(), "net/url: ")
		}
		return ep, configErr("the SMTP URL is not valid (%s); percent-encode special characters in the user name and password", reason)
	}
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		ep.security, ep.port = StartTLSRequired, 587
	case "smtps":
		ep.security, ep.port = ImplicitTLS, 465
	case "":
		return ep, configErr("the SMTP URL needs a scheme: smtp:// (STARTTLS) or smtps:// (TLS)")
	default:
		return ep, configErr("the SMTP URL scheme %q is not supported: use smtp:// (STARTTLS) or smtps:// (TLS)", u.Scheme)
	}
	if u.Opaque != "" {
		return ep, configErr("the SMTP URL must look like smtp://host:port")
	}
	ep.host = u.Hostname()
	if ep.host == "" {
		return ep, configErr("the SMTP URL has no host name")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return ep, configErr("the SMTP URL's port %q is not a number from 1 to 65535", p)
		}
		ep.port = n
	}
	if u.Path != "" && u.Path != "/" {
		return ep, configErr("the SMTP URL must not have a path (%q)", u.Path)
	}
	if u.User != nil {
		ep.user = u.User.Username()
		ep.pass, _ = u.User.Password()
		if ep.user == "" {
			return ep, configErr("the SMTP URL has a password but no user name")
		}
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return ep, configErr("the SMTP URL's options (after ?) could not be read")
	}
	if q.Has("tls") && q.Has("starttls") {
		return ep, configErr("the SMTP URL has both tls= and starttls= options: use one")
	}
	for key, vals := range q {
		v := strings.ToLower(vals[len(vals)-1])
		switch strings.ToLower(key) {
		case "tls":
			switch v {
			case "none", "off", "false", "no":
				if ep.security == ImplicitTLS {
					return ep, configErr("smtps:// always uses TLS; use smtp://...?tls=none for a plain connection")
				}
				ep.security = NoTLS
			case "starttls", "required", "on", "true", "yes":
				if ep.security == ImplicitTLS {
					return ep, configErr("smtps:// uses TLS from the start; use smtp:// for STARTTLS")
				}
			case "implicit":
				ep.security = ImplicitTLS
			default:
				return ep, configErr("the SMTP URL option tls=%s is not known (use tls=none, tls=starttls or tls=implicit)", v)
			}
		case "starttls":
			switch v {
			case "optional", "opportunistic":
				if ep.security == ImplicitTLS {
					return ep, configErr("smtps:// uses TLS from the start; starttls=optional applies to smtp:// only")
				}
				ep.security = StartTLSOptional
			case "required", "":
			default:
				return ep, configErr("the SMTP URL option starttls=%s is not known (use starttls=required or starttls=optional)", v)
			}
		default:
			return ep, configErr("the SMTP URL option %q is not known (known: tls, starttls)", key)
		}
	}
	if ep.pass != "" && ep.security != ImplicitTLS && ep.security != StartTLSRequired && !isLoopback(ep.host) {
		return ep, configErr("the SMTP URL would send the password to %s without guaranteed encryption: "+
			"use smtps://, or smtp:// with STARTTLS required (the default)", ep.host)
	}
	return ep, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseAddress parses one address for a header, refusing line breaks (header injection).
func parseAddress(field, s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, &MessageError{Field: field, Value: s, Err: ErrHeaderInjection}
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, &MessageError{Field: field, Value: s, Err: ErrInvalidAddress}
	}
	return a, nil
}

// String is the URL with the password masked, for display on a settings page.
func (c Config) String() string {
	return redactURL(c.URL)
}

// GoString keeps the password out of %#v as well.
func (c Config) GoString() string {
	return fmt.Sprintf("mail.Config{URL:%q, From:%q, ReplyTo:%q}", redactURL(c.URL), c.From, c.ReplyTo)
}

// LogValue keeps the password out of slog output.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", redactURL(c.URL)),
		slog.String("from", c.From),
		slog.String("reply_to", c.ReplyTo),
	)
}

// Summary describes the connection in words, e.g. "smtp.example.com:587, STARTTLS required,
// signing in as mailer".
func (c Config) Summary() string {
	ep, err := c.parseURL()
	if err != nil {
		return "not configured correctly"
	}
	s := net.JoinHostPort(ep.host, strconv.Itoa(ep.port)) + ", " + ep.security.String()
	if ep.user != "" {
		s += ", signing in as " + ep.user
	}
	return s
}

func redactURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "(invalid SMTP URL)"
	}
	return u.Redacted()
}
