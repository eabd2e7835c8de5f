package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

func TestCatcherOrderAndKnobs(t *testing.T) {
	c := newTestCatcher(t)
	s := newTestSender(t, c)
	ctx := context.Background()
	send := func(subject string) error {
		return s.Send(ctx, Message{To: "pat@example.com", Subject: subject, Text: "x"})
	}
	// Refuse the next two, then accept again.
	c.SetRefuseFor(2, RefusePermanent)
	for i := 0; i < 2; i++ {
		if err := send("refused"); err == nil || !IsPermanent(err) {
			t.Fatalf("refusal %d: %v", i, err)
		}
	}
	for i := 1; i <= 3; i++ {
		if err := send(fmt.Sprintf("message %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	msgs := c.Messages()
	if len(msgs) != 3 || c.Count() != 3 {
		t.Fatalf("caught %d (count %d)", len(msgs), c.Count())
	}
	for i, want := range []string{"message 3", "message 2", "message 1"} {
		if msgs[i].Subject != want || msgs[i].ID != 3-i {
			t.Errorf("Messages()[%d] = #%d %q, want #%d %q (newest first)", i, msgs[i].ID, msgs[i].Subject, 3-i, want)
		}
	}
	if m, ok := c.Message(2); !ok || m.Subject != "message 2" {
		t.Errorf("Message(2) = %q, %v", m.Subject, ok)
	}
	if _, ok := c.Message(99); ok {
		t.Error("Message(99) found")
	}

	// A persistent mode stays until changed; SetRefuseFor takes precedence while it lasts.
	c.SetRefuse(RefuseTemporary)
	c.SetRefuseFor(1, RefuseNone)
	if err := send("let through"); err != nil {
		t.Fatal(err)
	}
	if err := send("held"); err == nil || IsPermanent(err) {
		t.Fatalf("want a temporary refusal, got %v", err)
	}
	c.SetRefuse(RefuseNone)

	// Wait returns once enough arrived, and gives up with ctx.
	if err := c.Wait(ctx, 4); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := c.Wait(short, 5); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait for a fifth: %v", err)
	}
	// The late message is sent once Wait is blocked: Wait asks for ctx.Done()
	// only after it has counted the four already caught.
	asked := &doneAsked{Context: waitCtx(t), asked: make(chan struct{})}
	waited := make(chan error, 1)
	go func() { waited <- c.Wait(asked, 5) }()
	<-asked.asked
	if err := send("late"); err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"none", "temporary", "permanent", "temporary-data", "permanent-data"} {
		m, err := ParseRefuseMode(name)
		if err != nil || m.String() != name {
			t.Errorf("ParseRefuseMode(%q) = %v, %v", name, m, err)
		}
	}
	if _, err := ParseRefuseMode("sometimes"); err == nil {
		t.Error("ParseRefuseMode accepted nonsense")
	}
}

// The catcher decodes whatever a client sends, not only go-mail's quoted-printable.
func TestCatcherDecodesBase64AndEncodedWords(t *testing.T) {
	c := newTestCatcher(t)
	raw := strings.Join([]string{
		"From: =?utf-8?q?Z=C3=B6e?= <zoe@example.com>",
		"To: pat@example.com",
		"Subject: =?utf-8?b?SGVsbG8gWm/Dqw==?=",
		"Message-ID: <abc@example.com>",
		"MIME-Version: 1.0",
		`Content-Type: multipart/mixed; boundary="outer"`,
		"",
		"--outer",
		`Content-Type: multipart/alternative; boundary="inner"`,
		"",
		"--inner",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: base64",
		"",
		"SGkgWm/DqywKaHR0cHM6Ly9leGFtcGxlLmNvbS92P2E9MSZiPTI=",
		"--inner",
		"Content-Type: text/html; charset=utf-8",
		"Content-Transfer-Encoding: quoted-printable",
		"",
		`<a href=3D"https://example.com/v?a=3D1&amp;b=3D2">Verify</a> Zo=C3=AB =`,
		"continued",
		"--inner--",
		"--outer--",
		"",
	}, "\r\n")
	client, err := smtp.Dial(c.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if err := client.SendMail("zoe@example.com", []string{"pat@example.com"}, strings.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	client.Quit()
	m := c.Messages()[0]
	if m.Subject != "Hello Zoë" || m.MessageID != "<abc@example.com>" {
		t.Errorf("headers: %q %q", m.Subject, m.MessageID)
	}
	if m.Text != "Hi Zoë,\nhttps://example.com/v?a=1&b=2" {
		t.Errorf("text %q", m.Text)
	}
	if m.HTML != `<a href="https://example.com/v?a=1&amp;b=2">Verify</a> Zoë continued` {
		t.Errorf("html %q", m.HTML)
	}
	if string(m.Raw) == "" || m.From != "zoe@example.com" || m.To[0] != "pat@example.com" {
		t.Errorf("envelope %q %v", m.From, m.To)
	}
}

func TestRunCatcher(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunCatcher(ctx, addr, "", "", slog.New(slog.DiscardHandler)) }()
	s, _ := NewSender(Config{URL: "smtp://" + addr + "?tls=none", From: "verify@acme.example"})
	var err error
	for i := 0; i < 200; i++ { // until it listens
		if err = s.Send(context.Background(), Message{To: "pat@example.com", Subject: "Hi", Text: "x"}); err == nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := RunCatcher(context.Background(), "256.0.0.1:1", "", "", nil); err == nil {
		t.Fatal("RunCatcher on a bad address did not fail")
	}
}

// doneAsked is a context that reports (closing asked) the first time its Done
// channel is asked for.
type doneAsked struct {
	context.Context
	once  sync.Once
	asked chan struct{}
}

func (d *doneAsked) Done() <-chan struct{} {
	d.once.Do(func() { close(d.asked) })
	return d.Context.Done()
}
