package mail

import (
	"context"
	"errors"
	"strings"
	"testing"
)

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
