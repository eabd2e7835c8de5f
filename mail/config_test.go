package mail

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		url      string
		security Security
		summary  string
	}{
		{"smtp://mailer:" + secret + "@smtp.example.com:587", StartTLSRequired, "smtp.example.com:587, STARTTLS required, signing in as mailer"},
		{"smtp://smtp.example.com", StartTLSRequired, "smtp.example.com:587, STARTTLS required"},
		{"smtps://mailer:" + secret + "@smtp.example.com", ImplicitTLS, "smtp.example.com:465, implicit TLS, signing in as mailer"},
		{"smtp://relay.internal:25?starttls=optional", StartTLSOptional, "relay.internal:25, STARTTLS when offered"},
		{"smtp://127.0.0.1:2525?tls=none", NoTLS, "127.0.0.1:2525, no TLS"},
		{"smtp://dev:" + secret + "@localhost:2525?tls=none", NoTLS, "localhost:2525, no TLS, signing in as dev"},
		{"smtp://m%40acme.example:p%40ss@smtp.example.com", StartTLSRequired, "smtp.example.com:587, STARTTLS required, signing in as m@acme.example"},
	} {
		c, err := ParseConfig(tc.url, "Acme <verify@acme.example>", "")
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if c.Security() != tc.security || c.Summary() != tc.summary {
			t.Errorf("%s: %v / %q, want %v / %q", tc.url, c.Security(), c.Summary(), tc.security, tc.summary)
		}
	}

	for _, tc := range []struct {
		url, from, replyTo, want string
	}{
		{"", "a@b.example", "", "the SMTP URL is missing"},
		{"http://smtp.example.com", "a@b.example", "", `scheme "http" is not supported`},
		{"smtp.example.com:587", "a@b.example", "", "scheme"},
		{"smtp://:587", "a@b.example", "", "no host name"},
		{"smtp://smtp.example.com:99999", "a@b.example", "", "port"},
		{"smtp://smtp.example.com?tls=maybe", "a@b.example", "", "tls=maybe is not known"},
		{"smtp://smtp.example.com?verify=no", "a@b.example", "", `option "verify" is not known`},
		{"smtps://smtp.example.com?tls=none", "a@b.example", "", "smtps:// always uses TLS"},
		{"smtp://smtp.example.com?tls=none&starttls=optional", "a@b.example", "", "use one"},
		{"smtp://u:" + secret + "@smtp.example.com?tls=none", "a@b.example", "", "without guaranteed encryption"},
		{"smtp://u:" + secret + "@smtp.example.com?starttls=optional", "a@b.example", "", "without guaranteed encryption"},
		{"smtp://u:" + secret + " x@smtp.example.com", "a@b.example", "", "not valid"},
		{"smtp://u:" + secret + "@smtp.example.com/path", "a@b.example", "", "must not have a path"},
		{"smtp://smtp.example.com", "", "", "From address is missing"},
		{"smtp://smtp.example.com", "not an address", "", `From address "not an address" is not a valid`},
		{"smtp://smtp.example.com", "a@b.example\r\nBcc: x@evil.example", "", "From contains a line break"},
		{"smtp://smtp.example.com", "a@b.example", "x@y.example\nBcc: z@evil.example", "Reply-To contains a line break"},
	} {
		_, err := ParseConfig(tc.url, tc.from, tc.replyTo)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseConfig(%q, %q, %q) = %v, want an error saying %q", tc.url, tc.from, tc.replyTo, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows the password: %v", err)
		}
	}

	// The password never shows in String, %v, %#v or slog output.
	c := Config{URL: "smtp://mailer:" + secret + "@smtp.example.com:587", From: "verify@acme.example"}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "smtp", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "smtp", c)
	shown := strings.Join([]string{c.String(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), buf.String(), c.Summary()}, "\n")
	if strings.Contains(shown, secret) {
		t.Fatalf("password shown:\n%s", shown)
	}
	if !strings.Contains(c.String(), "mailer:xxxxx@smtp.example.com") {
		t.Errorf("String() = %q", c.String())
	}
	if _, err := NewSender(Config{URL: "smtp://x", From: "nope"}); err == nil {
		t.Error("NewSender accepted an invalid From")
	}
}
