package mail

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"strings"
	"testing"
)

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
