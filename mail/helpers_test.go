package mail

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/internal/testkit"
)

func newTestDB(t testing.TB) *db.DB {
	t.Helper()
	return testkit.OpenDB(t)
}

func newTestCatcher(t testing.TB) *Catcher {
	t.Helper()
	c, err := StartCatcher("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func newTestSender(t testing.TB, c *Catcher) *Sender {
	t.Helper()
	s, err := NewSender(Config{URL: c.URL(), From: "Acme Verification <verify@acme.example>",
		ReplyTo: "help@acme.example", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// queueTest queues one email the way inquiry.Send does: the row and its audit entry in one
// transaction.
func queueTest(t testing.TB, d *db.DB, e db.OutboxEmail) int64 {
	t.Helper()
	if e.Recipient == "" {
		e.Recipient = "pat@example.com"
	}
	if e.Kind == "" {
		e.Kind = "test"
	}
	if e.Subject == "" {
		e.Subject = "Please verify your identity"
	}
	if e.BodyText == "" {
		e.BodyText = "Hi Pat,\n\nhttps://example.com/verify\n"
		e.BodyHTML = `<p>Hi Pat,</p><p><a href="https://example.com/verify">Verify</a></p>`
	}
	var id int64
	err := d.Tx(context.Background(), func(tx *sql.Tx) error {
		var err error
		if id, err = db.QueueEmail(context.Background(), tx, e); err != nil {
			return err
		}
		return db.AddAudit(context.Background(), tx, db.AuditEntry{Action: "email.queue", Target: e.Recipient})
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// startWorker runs w until the returned stop is called (or the test ends); stop waits for Run to
// return and fails the test if it returned an error.
func startWorker(t testing.TB, w *Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("worker did not stop")
		}
	}
	t.Cleanup(stop)
	return stop
}

// waitEmail polls until email id is in state.
func waitEmail(t testing.TB, d *db.DB, id int64, state string) db.OutboxEmail {
	t.Helper()
	return testkit.WaitEmail(t, d, id, state)
}

func waitCtx(t testing.TB) context.Context { return testkit.Context(t) }
