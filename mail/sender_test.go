package mail

import (
	"context"
	"strings"
	"testing"
	"time"
)

const secret = "s3cr3t-Pa55"

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
