package mail

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A catcher with a folder has each message on disk by the time the sender hears 250, and a new
// catcher on the same folder lists them (same IDs, envelope and content) and numbers on.
func TestCatcherDirSurvivesRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	c, err := StartCatcherDir("127.0.0.1:0", dir)
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSender(t, c)
	ctx := context.Background()
	for _, to := range []string{"pat@example.com", "zoë@example.com"} {
		if err := s.Send(ctx, Message{To: to, Subject: "Verify, " + to, Text: "Hello " + to, HTML: "<p>Hello</p>"}); err != nil {
			t.Fatal(err)
		}
		// Accepted means stored: the file is there before the next message is even sent.
		if kept, err := ReadCaught(dir); err != nil || len(kept) != c.Count() {
			t.Fatalf("on disk after %d accepted: %d (%v)", c.Count(), len(kept), err)
		}
	}
	before := c.Messages()
	c.Close()

	c2, err := StartCatcherDir("127.0.0.1:0", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c2.Close)
	after := c2.Messages()
	if len(after) != 2 || c2.Count() != 2 {
		t.Fatalf("after the restart: %d messages, count %d", len(after), c2.Count())
	}
	for i := range before {
		b, a := before[i], after[i]
		if a.ID != b.ID || a.From != b.From || a.To[0] != b.To[0] || a.Subject != b.Subject || a.Text != b.Text ||
			a.HTML != b.HTML || a.MessageID != b.MessageID || !a.Received.Equal(b.Received) {
			t.Errorf("message %d after the restart: %+v\nbefore: %+v", i, a, b)
		}
	}
	if err := newTestSender(t, c2).Send(ctx, Message{To: "third@example.com", Subject: "third", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if m := c2.Messages()[0]; m.ID != 3 || m.To[0] != "third@example.com" {
		t.Errorf("next message #%d to %v, want #3", m.ID, m.To)
	}
}

// A message the catcher cannot store is refused for now (451), not accepted and lost.
func TestCatcherDirWriteFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	c, err := StartCatcherDir("127.0.0.1:0", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	err = newTestSender(t, c).Send(context.Background(), Message{To: "pat@example.com", Subject: "lost?", Text: "x"})
	if err == nil || IsPermanent(err) || c.Count() != 0 {
		t.Fatalf("send with the folder gone: %v (count %d), want a temporary refusal", err, c.Count())
	}
}

// A file in the folder that is not a caught message stops the start, in words.
func TestCatcherDirUnreadable(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, storedName(1)), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := StartCatcherDir("127.0.0.1:0", dir); err == nil {
		t.Fatal("started on a broken message file")
	} else {
		t.Log(err)
	}
}
