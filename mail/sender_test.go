package mail

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/textproto"
	"os"
	"strings"
	"testing"
	"time"
)

const secret = "s3cr3t-Pa55"

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

func TestSendDeliversBothParts(t *testing.T) {
	c := newTestCatcher(t)
	s := newTestSender(t, c)
	link := "https://inquiry.withpersona.com/verify?inquiry-id=inq_123&lang=en"
	subject, text, html, err := Render(DefaultSubject, DefaultText, DefaultHTML, LinkEmail{
		FirstName: "Zoë", Link: link, Expiry: "in 23 hours", Company: "Acme", StaffName: "Ann Agent",
	})
	if err != nil {
		t.Fatal(err)
	}
	id := NewMessageID("verify@acme.example")
	before := time.Now().Add(-time.Second)
	err = s.Send(context.Background(), Message{To: "Zoë Doe <zoe@example.com>", Subject: subject, Text: text, HTML: html, MessageID: id})
	if err != nil {
		t.Fatal(err)
	}
	msgs := c.Messages()
	if len(msgs) != 1 {
		t.Fatalf("caught %d messages", len(msgs))
	}
	m := msgs[0]
	if m.From != "verify@acme.example" || len(m.To) != 1 || m.To[0] != "zoe@example.com" {
		t.Errorf("envelope from %q to %v", m.From, m.To)
	}
	if m.Subject != "Acme: please verify your identity" {
		t.Errorf("subject %q", m.Subject)
	}
	if m.MessageID != id || !strings.HasSuffix(id, "@acme.example>") {
		t.Errorf("Message-ID %q, want %q", m.MessageID, id)
	}
	date, err := m.Header.Date()
	if err != nil || date.Before(before) || date.After(time.Now().Add(time.Second)) {
		t.Errorf("Date header %q: %v %v", m.Header.Get("Date"), date, err)
	}
	if ct := m.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type %q, want multipart/alternative", ct)
	}
	if from := m.Header.Get("From"); !strings.Contains(from, "Acme Verification") || !strings.Contains(from, "<verify@acme.example>") {
		t.Errorf("From header %q", from)
	}
	if rt := m.Header.Get("Reply-To"); !strings.Contains(rt, "help@acme.example") {
		t.Errorf("Reply-To header %q", rt)
	}
	for _, want := range []string{"Hi Zoë,", link, "expires in 23 hours", "Ann Agent, Acme"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text part lacks %q:\n%s", want, m.Text)
		}
	}
	escaped := strings.ReplaceAll(link, "&", "&amp;")
	for _, want := range []string{"Hi Zoë,", `href="` + escaped + `"`, "expires in 23 hours", "Verify my identity"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, m.HTML)
		}
	}
	if strings.Contains(m.Text, "{{") || strings.Contains(m.HTML, "{{") {
		t.Error("a placeholder was left unfilled")
	}
	if got, ok := c.Message(m.ID); !ok || got.MessageID != id {
		t.Errorf("Message(%d) = %v, %v", m.ID, got.MessageID, ok)
	}
}

func TestSendTextOnlyAndGeneratedID(t *testing.T) {
	c := newTestCatcher(t)
	s := newTestSender(t, c)
	if err := s.Send(context.Background(), Message{To: "pat@example.com", Subject: "Grüße, Zoë — bitte bestätigen", Text: "Just text\n"}); err != nil {
		t.Fatal(err)
	}
	m := c.Messages()[0]
	if m.Subject != "Grüße, Zoë — bitte bestätigen" {
		t.Errorf("subject %q", m.Subject)
	}
	if m.HTML != "" || !strings.Contains(m.Text, "Just text") || !strings.HasPrefix(m.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("text-only message: %q %q %q", m.Header.Get("Content-Type"), m.Text, m.HTML)
	}
	if !strings.HasSuffix(m.MessageID, "@acme.example>") {
		t.Errorf("generated Message-ID %q", m.MessageID)
	}
}

func TestSendSignsIn(t *testing.T) {
	c := newTestCatcher(t)
	s, err := NewSender(Config{URL: "smtp://mailer:" + secret + "@" + c.Addr() + "?tls=none", From: "verify@acme.example"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{To: "pat@example.com", Subject: "Hi", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if u := c.Messages()[0].AuthUser; u != "mailer" {
		t.Errorf("signed in as %q, want mailer", u)
	}
}

func TestHeaderInjectionRefused(t *testing.T) {
	c := newTestCatcher(t)
	s := newTestSender(t, c)
	ok := Message{To: "pat@example.com", Subject: "Hi", Text: "x", HTML: "<p>x</p>"}
	for _, tc := range []struct {
		name string
		edit func(*Message)
		want string
	}{
		{"CRLF in To", func(m *Message) { m.To = "pat@example.com\r\nBcc: victim@example.com" }, "To contains a line break"},
		{"LF in To", func(m *Message) { m.To = "pat@example.com\nBcc: victim@example.com" }, "To contains a line break"},
		{"CRLF in Subject", func(m *Message) { m.Subject = "Hi\r\nBcc: victim@example.com" }, "Subject contains a line break"},
		{"bare CR in Subject", func(m *Message) { m.Subject = "Hi\rBcc: victim@example.com" }, "Subject contains a line break"},
		{"LF in Message-ID", func(m *Message) { m.MessageID = "<a@b>\nBcc: victim@example.com" }, "Message-ID contains a line break"},
		{"two recipients", func(m *Message) { m.To = "pat@example.com, victim@example.com" }, "is not a valid email address"},
		{"not an address", func(m *Message) { m.To = "pat" }, `"pat" is not a valid email address`},
		{"no recipient", func(m *Message) { m.To = "" }, "To address is missing"},
		{"no body", func(m *Message) { m.Text, m.HTML = "", "" }, "body is empty"},
	} {
		m := ok
		tc.edit(&m)
		err := s.Send(context.Background(), m)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
			continue
		}
		if !IsPermanent(err) {
			t.Errorf("%s: not permanent", tc.name)
		}
		if ex := Explain(err); !strings.Contains(ex, tc.want) {
			t.Errorf("%s: Explain = %q", tc.name, ex)
		}
	}
	for _, bad := range []string{"verify@acme.example\r\nBcc: victim@example.com", "Acme\n <verify@acme.example>"} {
		if _, err := NewSender(Config{URL: c.URL(), From: bad}); !errors.Is(err, ErrHeaderInjection) {
			t.Errorf("From %q: %v, want ErrHeaderInjection", bad, err)
		}
		if _, err := NewSender(Config{URL: c.URL(), From: "verify@acme.example", ReplyTo: bad}); !errors.Is(err, ErrHeaderInjection) {
			t.Errorf("Reply-To %q: %v, want ErrHeaderInjection", bad, err)
		}
	}
	if n := c.Count(); n != 0 {
		t.Fatalf("the catcher got %d messages", n)
	}
	// A name with a line break in the middle of a subject is harmless once rendered: Render
	// makes the subject one line.
	subject, _, _, err := Render("Hi {{.FirstName}}", "x", "", LinkEmail{FirstName: "Pat\r\nBcc: victim@example.com"})
	if err != nil || strings.ContainsAny(subject, "\r\n") {
		t.Fatalf("subject %q, %v", subject, err)
	}
	if err := s.Send(context.Background(), Message{To: "pat@example.com", Subject: subject, Text: "x"}); err != nil {
		t.Fatal(err)
	}
	m := c.Messages()[0]
	if len(m.To) != 1 || m.Header.Get("Bcc") != "" {
		t.Fatalf("injected: to %v, Bcc %q", m.To, m.Header.Get("Bcc"))
	}
}

func TestSendErrorsClassified(t *testing.T) {
	c := newTestCatcher(t)
	s := newTestSender(t, c)
	msg := Message{To: "pat@example.com", Subject: "Hi", Text: "x", HTML: "<p>x</p>"}
	ctx := context.Background()

	for _, tc := range []struct {
		mode      RefuseMode
		permanent bool
		explain   string
	}{
		{RefusePermanent, true, "The mail server refused the message permanently: 550 5.1.1 Mailbox unavailable"},
		{RefuseTemporary, false, "The mail server refused the message for now and it will be tried again: 451 4.3.0 Requested action aborted: try again later"},
		{RefusePermanentData, true, "The mail server refused the message permanently: 554 5.6.0 Message content rejected"},
		{RefuseTemporaryData, false, "The mail server refused the message for now and it will be tried again: 451 4.3.0"},
	} {
		c.SetRefuse(tc.mode)
		err := s.Send(ctx, msg)
		if err == nil {
			t.Fatalf("%v: no error", tc.mode)
		}
		if IsPermanent(err) != tc.permanent {
			t.Errorf("%v: IsPermanent = %v, want %v (%v)", tc.mode, !tc.permanent, tc.permanent, err)
		}
		if ex := Explain(err); !strings.HasPrefix(ex, tc.explain) {
			t.Errorf("%v: Explain = %q, want %q", tc.mode, ex, tc.explain)
		}
	}
	c.SetRefuse(RefuseNone)

	c.SetDropMidSend(1)
	err := s.Send(ctx, msg)
	if err == nil || IsPermanent(err) {
		t.Fatalf("dropped connection: %v (permanent %v)", err, IsPermanent(err))
	}
	if ex := Explain(err); ex != "The connection to the mail server was lost while sending." {
		t.Errorf("dropped connection: Explain = %q (%v)", ex, err)
	}

	// Nothing listens on a port we just freed.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	dead, _ := NewSender(Config{URL: "smtp://" + addr + "?tls=none", From: "verify@acme.example"})
	err = dead.Send(ctx, msg)
	if err == nil || IsPermanent(err) || !strings.HasPrefix(Explain(err), "Could not connect to the mail server at "+addr) {
		t.Errorf("connection refused: %v / %q", err, Explain(err))
	}

	// smtp:// requires STARTTLS unless told otherwise; the catcher offers none.
	strict, _ := NewSender(Config{URL: "smtp://mailer:" + secret + "@" + c.Addr(), From: "verify@acme.example"})
	err = strict.Send(ctx, msg)
	if err == nil || IsPermanent(err) || !strings.Contains(Explain(err), "does not offer STARTTLS") {
		t.Errorf("STARTTLS required: %v / %q", err, Explain(err))
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(Explain(err), secret) {
		t.Error("error shows the password")
	}

	// A canceled context stops before anything is sent.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Send(cctx, msg); err == nil || IsPermanent(err) {
		t.Errorf("canceled: %v", err)
	}
	if n := c.Count(); n != 0 {
		t.Fatalf("the catcher accepted %d messages", n)
	}
	if err := s.Send(ctx, msg); err != nil {
		t.Fatalf("after the knobs: %v", err)
	}
	if IsPermanent(nil) || Explain(nil) != "" {
		t.Error("nil error")
	}
}

// Errors that are hard to provoke from the catcher, built the way go-mail wraps them.
func TestExplainConnectionLevel(t *testing.T) {
	wrap := func(err error) error {
		return &SendError{Server: "smtp.example.com:587", Err: fmt.Errorf("dial failed: %w", err)}
	}
	for _, tc := range []struct {
		name      string
		err       error
		permanent bool
		want      string
	}{
		{"5xx greeting", wrap(&textproto.Error{Code: 554, Msg: "5.7.1 Your IP is not allowed"}), false,
			"The mail server refused the connection: 554 5.7.1 Your IP is not allowed"},
		{"wrong password", wrap(fmt.Errorf("SMTP AUTH failed: %w", &textproto.Error{Code: 535, Msg: "5.7.8 Authentication credentials invalid"})), false,
			"The mail server did not accept the SMTP user name or password: 535 5.7.8 Authentication credentials invalid"},
		{"timeout", wrap(fmt.Errorf("read: %w", os.ErrDeadlineExceeded)), false, "The mail server did not answer in time."},
		{"unknown host", wrap(&net.DNSError{Err: "no such host", Name: "smtp.example.com", IsNotFound: true}), false,
			"Could not find the mail server at smtp.example.com:587 (the host name does not resolve)."},
		{"bad certificate", wrap(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "smtp.example.com"}), false,
			"Could not set up a secure connection to the mail server at smtp.example.com:587: "},
	} {
		if IsPermanent(tc.err) != tc.permanent {
			t.Errorf("%s: IsPermanent = %v", tc.name, !tc.permanent)
		}
		if got := Explain(tc.err); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: Explain = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestSendThenAcceptedBeforeQuit: accepted runs once the server has the message and before its
// answer to QUIT; a QUIT that fails (the server never answers in time) is still a sent message.
func TestSendThenAcceptedBeforeQuit(t *testing.T) {
	c := newTestCatcher(t)
	c.SetQuitDelay(time.Hour) // a server that hangs on QUIT...
	t.Cleanup(func() { c.SetQuitDelay(0) })
	s := newTestSender(t, c)
	accepted := make(chan int, 1)
	done := make(chan error, 1)
	go func() {
		done <- s.SendThen(context.Background(), Message{To: "pat@example.com", Subject: "Hi", Text: "Hello\n"},
			func() { accepted <- c.Count() })
	}()
	select {
	case n := <-accepted:
		if n != 1 {
			t.Fatalf("accepted ran with %d messages caught, want 1", n)
		}
	case err := <-done:
		t.Fatalf("SendThen returned %v before accepted ran", err)
	case <-waitCtx(t).Done():
		t.Fatal("accepted never ran while the server held QUIT")
	}
	// The QUIT is now held by the catcher and SendThen has not returned.
	deadline := time.Now().Add(10 * time.Second)
	for c.QuitsHeld() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the catcher holds %d QUITs, want 1", c.QuitsHeld())
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("SendThen returned %v while QUIT was unanswered", err)
	default:
	}
	c.SetQuitDelay(0) // ...that finally answers
	if err := <-done; err != nil {
		t.Fatalf("SendThen: %v", err)
	}

	// ...and one that never answers before the client's timeout: still sent, no error.
	c.SetQuitDelay(time.Hour)
	quick, err := NewSender(Config{URL: c.URL(), From: "verify@acme.example", Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := quick.Send(context.Background(), Message{To: "pat@example.com", Subject: "Hi", Text: "Hello\n"}); err != nil {
		t.Fatalf("a QUIT timing out after the message was accepted failed the send: %v", err)
	}
	if c.Count() != 2 {
		t.Fatalf("caught %d, want 2", c.Count())
	}
}
