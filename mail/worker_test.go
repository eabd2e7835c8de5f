package mail

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/internal/testkit"
)

// testWorker is a worker with test-sized timings: millisecond backoff, no rate limit.
func testWorker(d *db.DB, s *Sender) *Worker {
	return &Worker{DB: d, Sender: s, Rate: -1, Backoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Poll: 20 * time.Millisecond}
}

// deliveredOnce asserts that the catcher holds exactly one copy of each Message-ID in ids and
// nothing else.
func deliveredOnce(t *testing.T, c *Catcher, ids ...string) {
	t.Helper()
	seen := map[string]int{}
	for _, m := range c.Messages() {
		seen[m.MessageID]++
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("Message-ID %s delivered %d times, want once", id, seen[id])
		}
	}
	if c.Count() != len(ids) || len(seen) != len(ids) {
		t.Errorf("catcher has %d messages with %d distinct Message-IDs, want %d and %d", c.Count(), len(seen), len(ids), len(ids))
	}
}

// settle stops the worker (stop waits for the send in flight to be recorded) and checks that no
// email is left queued or mid-send: with nothing a worker could send again, the catcher's
// copies are final and deliveredOnce can count them.
func settle(t *testing.T, d *db.DB, stop func()) {
	t.Helper()
	stop()
	counts, err := d.CountEmailsByState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if counts[db.EmailQueued] != 0 || counts[db.EmailSending] != 0 {
		t.Fatalf("after the worker stopped: %v (want none queued or sending)", counts)
	}
}

func TestWorkerDelivers(t *testing.T) {
	d, c := newTestDB(t), newTestCatcher(t)
	w := testWorker(d, newTestSender(t, c))
	var mu sync.Mutex
	var notified []string
	w.Notify = func(id string) { mu.Lock(); notified = append(notified, id); mu.Unlock() }
	id := queueTest(t, d, db.OutboxEmail{Recipient: "pat@example.com", Subject: "Acme: please verify your identity",
		BodyText: "Hi Pat, https://example.com/v", BodyHTML: `<a href="https://example.com/v">Verify</a>`})
	startWorker(t, w)
	e := waitEmail(t, d, id, db.EmailSent)
	if e.Attempts != 1 || e.SentAt.IsZero() || e.LastError != "" {
		t.Errorf("sent row: %+v", e)
	}
	if err := c.Wait(waitCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	m := c.Messages()[0]
	if m.MessageID != e.MessageID || m.Subject != e.Subject || !strings.Contains(m.Text, "https://example.com/v") ||
		!strings.Contains(m.HTML, `href="https://example.com/v"`) {
		t.Errorf("caught %+v", m)
	}
	mu.Lock()
	if len(notified) < 2 { // claimed (sending), then sent
		t.Errorf("Notify called %d times, want at least 2", len(notified))
	}
	mu.Unlock()
	entries, _ := d.ListAudit(context.Background(), db.AuditFilter{Action: "email.sent"})
	if len(entries) != 1 {
		t.Errorf("audit: %+v", entries)
	}
}

func TestWorkerTemporaryRefusalThenDelivered(t *testing.T) {
	for _, mode := range []RefuseMode{RefuseTemporary, RefuseTemporaryData} {
		t.Run(mode.String(), func(t *testing.T) {
			d, c := newTestDB(t), newTestCatcher(t)
			c.SetRefuseFor(2, mode)
			id := queueTest(t, d, db.OutboxEmail{})
			stop := startWorker(t, testWorker(d, newTestSender(t, c)))
			e := waitEmail(t, d, id, db.EmailSent)
			if e.Attempts != 3 {
				t.Errorf("attempts %d, want 3 (two refusals, then accepted)", e.Attempts)
			}
			settle(t, d, stop)
			deliveredOnce(t, c, e.MessageID)
		})
	}
}

func TestWorkerRetriesWithBackoff(t *testing.T) {
	d, c := newTestDB(t), newTestCatcher(t)
	c.SetRefuseFor(1, RefuseTemporary)
	id := queueTest(t, d, db.OutboxEmail{})
	w := testWorker(d, newTestSender(t, c))
	w.Backoff, w.MaxBackoff = time.Hour, 2*time.Hour
	startWorker(t, w)
	deadline := time.Now().Add(20 * time.Second)
	for {
		e, _ := d.GetEmail(context.Background(), id)
		if e.State == db.EmailQueued && e.Attempts == 1 {
			if !strings.Contains(e.LastError, "451 4.3.0") {
				t.Errorf("last error %q", e.LastError)
			}
			if wait := time.Until(e.NextAttemptAt); wait < 59*time.Minute || wait > time.Hour {
				t.Errorf("next attempt in %v, want about an hour", wait)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never retried: %+v", e)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for attempt, want := range map[int]time.Duration{1: time.Hour, 2: 2 * time.Hour, 5: 2 * time.Hour} {
		if got := w.backoff(attempt); got != want {
			t.Errorf("backoff(%d) = %v, want %v", attempt, got, want)
		}
	}
	def := &Worker{}
	for attempt, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 4: 4 * time.Minute, 7: 32 * time.Minute, 8: time.Hour, 60: time.Hour} {
		if got := def.backoff(attempt); got != want {
			t.Errorf("default backoff(%d) = %v, want %v", attempt, got, want)
		}
	}
}

func TestWorkerPermanentRefusalFails(t *testing.T) {
	for _, tc := range []struct {
		mode RefuseMode
		want string
	}{
		{RefusePermanent, "The mail server refused the message permanently: 550 5.1.1 Mailbox unavailable"},
		{RefusePermanentData, "The mail server refused the message permanently: 554 5.6.0 Message content rejected"},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			d, c := newTestDB(t), newTestCatcher(t)
			c.SetRefuse(tc.mode)
			id := queueTest(t, d, db.OutboxEmail{})
			startWorker(t, testWorker(d, newTestSender(t, c)))
			e := waitEmail(t, d, id, db.EmailFailed)
			if e.LastError != tc.want || e.Attempts != 1 {
				t.Errorf("failed row: attempts %d, last error %q; want 1 and %q", e.Attempts, e.LastError, tc.want)
			}
			if c.Count() != 0 {
				t.Errorf("catcher accepted %d", c.Count())
			}
			entries, _ := d.ListAudit(context.Background(), db.AuditFilter{Action: "email.failed"})
			if len(entries) != 1 || entries[0].Outcome != tc.want {
				t.Errorf("audit: %+v", entries)
			}
			// Staff retry once the mailbox is fixed.
			c.SetRefuse(RefuseNone)
			if err := d.RetryEmail(context.Background(), id, db.AuditEntry{Actor: "Pat", Action: "email.retry"}); err != nil {
				t.Fatal(err)
			}
			e = waitEmail(t, d, id, db.EmailSent)
			deliveredOnce(t, c, e.MessageID)
		})
	}
}

func TestWorkerInvalidRecipientFails(t *testing.T) {
	d, c := newTestDB(t), newTestCatcher(t)
	id := queueTest(t, d, db.OutboxEmail{Recipient: "pat@example.com\r\nBcc: victim@example.com"})
	startWorker(t, testWorker(d, newTestSender(t, c)))
	e := waitEmail(t, d, id, db.EmailFailed)
	if !strings.Contains(e.LastError, "To contains a line break") {
		t.Errorf("last error %q", e.LastError)
	}
}

func TestWorkerGivesUpAfterMaxAttempts(t *testing.T) {
	d, c := newTestDB(t), newTestCatcher(t)
	c.SetRefuse(RefuseTemporary)
	id := queueTest(t, d, db.OutboxEmail{})
	w := testWorker(d, newTestSender(t, c))
	w.MaxAttempts = 3
	startWorker(t, w)
	e := waitEmail(t, d, id, db.EmailFailed)
	if e.Attempts != 3 || !strings.HasSuffix(e.LastError, "(gave up after 3 attempts)") || !strings.Contains(e.LastError, "451") {
		t.Errorf("attempts %d, last error %q", e.Attempts, e.LastError)
	}
}

func TestWorkerDropMidSendThenDelivered(t *testing.T) {
	d, c := newTestDB(t), newTestCatcher(t)
	c.SetDropMidSend(2)
	id := queueTest(t, d, db.OutboxEmail{})
	stop := startWorker(t, testWorker(d, newTestSender(t, c)))
	e := waitEmail(t, d, id, db.EmailSent)
	if e.Attempts != 3 {
		t.Errorf("attempts %d, want 3", e.Attempts)
	}
	settle(t, d, stop)
	deliveredOnce(t, c, e.MessageID)
}

// TestWorkerKilledMidBatch stops a worker while it is sending a batch of 50, then starts a new
// one on the same database: every email arrives exactly once.
func TestWorkerKilledMidBatch(t *testing.T) {
	const n = 50
	d, c := newTestDB(t), newTestCatcher(t)
	var ids []int64
	for i := 0; i < n; i++ {
		ids = append(ids, queueTest(t, d, db.OutboxEmail{}))
	}
	s := newTestSender(t, c)
	w1 := testWorker(d, s)
	w1.Rate, w1.Batch = 400, n // the whole queue in one claim, sent over ~125ms
	stop := startWorker(t, w1)
	if err := c.Wait(waitCtx(t), 10); err != nil {
		t.Fatal(err)
	}
	stop()
	counts, _ := d.CountEmailsByState(context.Background())
	if counts[db.EmailSending] != 0 || counts[db.EmailSent] == 0 || counts[db.EmailSent] == n {
		t.Fatalf("after stopping mid-batch: %v (want some sent, the rest queued, none left sending)", counts)
	}
	if counts[db.EmailSent] != c.Count() {
		t.Fatalf("%d recorded sent but the catcher has %d", counts[db.EmailSent], c.Count())
	}
	t.Logf("stopped after %d of %d", counts[db.EmailSent], n)

	stop = startWorker(t, testWorker(d, s))
	var msgIDs []string
	for _, id := range ids {
		e := waitEmail(t, d, id, db.EmailSent)
		if e.Attempts != 1 {
			t.Errorf("email %d: attempts %d, want 1 (a handed-back claim is not an attempt)", id, e.Attempts)
		}
		msgIDs = append(msgIDs, e.MessageID)
	}
	settle(t, d, stop)
	deliveredOnce(t, c, msgIDs...)
}

// TestWorkerRecoversCrashedClaims: a worker that died holding claims (rows left 'sending') is
// followed by one that queues them again at start and sends each once.
func TestWorkerRecoversCrashedClaims(t *testing.T) {
	const n = 10
	d, c := newTestDB(t), newTestCatcher(t)
	var ids []int64
	for i := 0; i < n; i++ {
		ids = append(ids, queueTest(t, d, db.OutboxEmail{}))
	}
	claimed, err := d.ClaimDueEmails(context.Background(), time.Now(), n) // ...and then the process died
	if err != nil || len(claimed) != n {
		t.Fatalf("claimed %d: %v", len(claimed), err)
	}
	stop := startWorker(t, testWorker(d, newTestSender(t, c)))
	var msgIDs []string
	for _, id := range ids {
		msgIDs = append(msgIDs, waitEmail(t, d, id, db.EmailSent).MessageID)
	}
	settle(t, d, stop)
	deliveredOnce(t, c, msgIDs...)
}

func TestWorkerWake(t *testing.T) {
	d, c := newTestDB(t), newTestCatcher(t)
	w := testWorker(d, newTestSender(t, c))
	w.Poll = time.Hour // only Wake can make it look
	startWorker(t, w)
	for i := range 2 {
		id := queueTest(t, d, db.OutboxEmail{})
		w.Wake()
		waitEmail(t, d, id, db.EmailSent)
		if c.Count() != i+1 {
			t.Fatalf("caught %d after %d wakes", c.Count(), i+1)
		}
	}
}

func TestWorkerWithoutSenderKeepsEmailsQueued(t *testing.T) {
	d := newTestDB(t)
	w := testWorker(d, nil) // SMTP not configured
	w.Poll = time.Hour
	var logs testkit.Logs
	w.Logger = logs.Logger()
	id := queueTest(t, d, db.OutboxEmail{})
	startWorker(t, w)
	// The warning is written on the worker's first pass, which saw the queued email.
	testkit.Eventually(t, "the no-sender warning", 10*time.Second, func() bool {
		return len(logs.Lines("SMTP is not configured")) == 1
	})
	if e, _ := d.GetEmail(context.Background(), id); e.State != db.EmailQueued {
		t.Fatalf("sent without a sender: %+v", e)
	}
}

func TestWorkerCanceledEmailNotSent(t *testing.T) {
	d, c := newTestDB(t), newTestCatcher(t)
	keep := queueTest(t, d, db.OutboxEmail{})
	drop := queueTest(t, d, db.OutboxEmail{})
	if err := d.CancelEmail(context.Background(), drop, db.AuditEntry{Actor: "Pat", Action: "email.cancel"}); err != nil {
		t.Fatal(err)
	}
	stop := startWorker(t, testWorker(d, newTestSender(t, c)))
	e := waitEmail(t, d, keep, db.EmailSent)
	settle(t, d, stop)
	deliveredOnce(t, c, e.MessageID)
	if e, _ := d.GetEmail(context.Background(), drop); e.State != db.EmailCanceled {
		t.Fatalf("canceled email is %s", e.State)
	}
}

// BenchmarkWorkerThroughput measures emails per second from the outbox to the in-process
// catcher with no rate limit (one SMTP connection per email, as in production).
func BenchmarkWorkerThroughput(b *testing.B) {
	d, c := newTestDB(b), newTestCatcher(b)
	s := newTestSender(b, c)
	subject, text, html, err := Render(DefaultSubject, DefaultText, DefaultHTML, SampleLinkEmail())
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		queueTest(b, d, db.OutboxEmail{Subject: subject, BodyText: text, BodyHTML: html})
	}
	w := &Worker{DB: d, Sender: s, Rate: -1}
	b.ResetTimer()
	start := time.Now()
	stop := startWorker(b, w)
	if err := c.Wait(context.Background(), b.N); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	stop()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "emails/s")
}

// TestWorkerRecordsSentBeforeQuit: with a server that hangs on QUIT, the email is recorded sent
// while the QUIT is still unanswered, so a restart at that moment (recovery, then a claim)
// finds nothing to send again and the catcher holds exactly one copy.
func TestWorkerRecordsSentBeforeQuit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	d := testkit.OpenDBAt(t, path)
	c := newTestCatcher(t)
	c.SetQuitDelay(time.Hour)
	s, err := NewSender(Config{URL: c.URL(), From: "verify@acme.example", Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	id := queueTest(t, d, db.OutboxEmail{})
	stop := startWorker(t, testWorker(d, s))
	t.Cleanup(func() { c.SetQuitDelay(0) }) // runs before the worker's stop

	// Poll (with a deadline) for the record while the catcher still holds the QUIT.
	deadline := time.Now().Add(10 * time.Second)
	for {
		e, err := d.GetEmail(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if e.State == db.EmailSent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("email is %q with the message accepted and QUIT unanswered (caught %d, QUITs held %d); "+
				"a crash now sends it again", e.State, c.Count(), c.QuitsHeld())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if c.QuitsHeld() != 1 || c.Count() != 1 {
		t.Fatalf("caught %d, QUITs held %d; want 1 and 1 (recorded before QUIT returned)", c.Count(), c.QuitsHeld())
	}

	// The process dies here and starts again on the same file: nothing is sent twice.
	d2 := testkit.OpenDBAt(t, path)
	if n, err := d2.RecoverClaims(context.Background()); err != nil || n != 0 {
		t.Fatalf("restart recovered %d claims (%v), want 0", n, err)
	}
	if got, err := d2.ClaimDueEmails(context.Background(), time.Now(), 10); err != nil || len(got) != 0 {
		t.Fatalf("restart claimed %d emails (%v), want none", len(got), err)
	}

	c.SetQuitDelay(0)
	stop()
	e, _ := d.GetEmail(context.Background(), id)
	if e.State != db.EmailSent || e.Attempts != 1 || e.LastError != "" {
		t.Fatalf("after QUIT: %s, %d attempts, %q", e.State, e.Attempts, e.LastError)
	}
	deliveredOnce(t, c, e.MessageID)
}
