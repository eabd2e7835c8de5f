package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/linkdesk/linkdesk/db"
)

// Worker defaults.
const (
	DefaultRate        = 10 // emails per second
	DefaultMaxAttempts = 8
	DefaultBackoff     = 30 * time.Second
	DefaultMaxBackoff  = time.Hour
	DefaultPoll        = time.Second
	DefaultSendTimeout = 2 * time.Minute
)

// Worker drains the outbox: it claims due emails, sends them at a bounded rate, and records each
// outcome. Run one Worker per database (RecoverClaims at start assumes no other worker is
// mid-send).
//
// Delivery is at least once, and exactly once except in one window. Rows are claimed (moved to
// 'sending') before they are sent, so two loops never send the same row. On success the very
// next thing after the server's 250 reply is the MarkEmailSent write, before QUIT; on shutdown
// an email already being sent is finished and recorded (the conversation is never cut short),
// and claimed emails not yet started are handed back. After a crash, RecoverClaims hands every row still 'sending' back to the queue.
// The window left: a crash (or a failed write) after the server's 250 reply and before
// MarkEmailSent commits. That email is sent again on restart, with the same Message-ID. SMTP
// offers no way to ask a server whether it already has a message, so no client can close it.
type Worker struct {
	DB     *db.DB
	Sender *Sender // nil: SMTP is not configured and emails wait in the outbox
	// Rate is the most emails sent per second; 0 means DefaultRate, negative means no limit.
	Rate float64
	// MaxAttempts is how many tries before a transiently failing email is given up; 0 means
	// DefaultMaxAttempts.
	MaxAttempts int
	// Backoff is the wait before the first retry, doubling with each attempt up to MaxBackoff;
	// 0 means DefaultBackoff / DefaultMaxBackoff.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Batch is how many due emails are claimed at once; 0 means one second's worth at Rate
	// (between 1 and 100).
	Batch int
	// Poll is how often the outbox is checked when nothing wakes the worker; 0 means DefaultPoll.
	Poll time.Duration
	// SendTimeout bounds one delivery; 0 means DefaultSendTimeout.
	SendTimeout time.Duration
	Logger      *slog.Logger
	// Notify is called with the email's inquiry ID ("" for an email without one) after an email
	// changes state, so open pages can refresh. It must not block. May be nil.
	Notify func(inquiryID string)

	mu   sync.Mutex
	wake chan struct{}
}

// Wake makes a running worker look at the outbox now rather than at its next poll; call it
// after queueing an email. It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wakeCh() <- struct{}{}:
	default:
	}
}

func (w *Worker) wakeCh() chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wake == nil {
		w.wake = make(chan struct{}, 1)
	}
	return w.wake
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (w *Worker) rate() float64 {
	if w.Rate == 0 {
		return DefaultRate
	}
	return w.Rate
}

func (w *Worker) batch() int {
	if w.Batch > 0 {
		return w.Batch
	}
	r := w.rate()
	if r < 0 || r > 100 {
		return 100
	}
	return max(1, int(r))
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// backoff is the wait after the given (1-based) failed attempt: Backoff doubling, capped.
func (w *Worker) backoff(attempt int) time.Duration {
	base := orDefault(w.Backoff, DefaultBackoff)
	limit := orDefault(w.MaxBackoff, DefaultMaxBackoff)
	d := base
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

func (w *Worker) notify(inquiryID string) {
	if w.Notify != nil {
		w.Notify(inquiryID)
	}
}

// Run hands back claims left by a previous run, then sends due emails until ctx ends. It returns
// nil when ctx ends, after finishing and recording the email being sent at that moment; it
// returns an error only when it cannot start.
func (w *Worker) Run(ctx context.Context) error {
	if w.DB == nil {
		return errors.New("mail: worker has no database")
	}
	log := w.logger()
	n, err := w.DB.RecoverClaims(ctx)
	if err != nil {
		return fmt.Errorf("mail: worker start: %w", err)
	}
	if n > 0 {
		log.Warn("mail: emails left mid-send by the last run are queued again; "+
			"any the server had already accepted will arrive twice", "count", n)
		w.notify("")
	}
	p := pacer{}
	if r := w.rate(); r > 0 {
		p.interval = time.Duration(float64(time.Second) / r)
	}
	poll := orDefault(w.Poll, DefaultPoll)
	warnedNoSender := false
	for {
		more := false
		if s := w.Sender; s != nil {
			warnedNoSender = false
			more, err = w.runBatch(ctx, s, &p)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				log.Error("mail: outbox", "err", err)
			}
		} else if !warnedNoSender {
			log.Warn("mail: SMTP is not configured; emails wait in the outbox")
			warnedNoSender = true
		}
		if more {
			continue
		}
		wait := poll
		if s := w.Sender; s != nil {
			if at, ok, err := w.DB.NextEmailDue(ctx); err == nil && ok {
				wait = min(wait, max(time.Until(at), time.Millisecond))
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-w.wakeCh():
		case <-t.C:
		}
		t.Stop()
	}
}

// runBatch claims one batch and sends it; more reports a full batch (there may be more due).
func (w *Worker) runBatch(ctx context.Context, s *Sender, p *pacer) (more bool, err error) {
	size := w.batch()
	batch, err := w.DB.ClaimDueEmails(ctx, time.Now(), size)
	if err != nil {
		return false, err
	}
	seen := map[string]bool{}
	for _, e := range batch {
		if !seen[e.InquiryID] {
			seen[e.InquiryID] = true
			w.notify(e.InquiryID)
		}
	}
	for i, e := range batch {
		if err := p.wait(ctx); err != nil {
			w.release(ctx, batch[i:])
			return false, nil
		}
		w.deliver(ctx, s, e)
	}
	return len(batch) == size, nil
}

// release hands back claimed emails that were never attempted (the worker is stopping).
func (w *Worker) release(ctx context.Context, rest []db.OutboxEmail) {
	ids := make([]int64, len(rest))
	for i, e := range rest {
		ids[i] = e.ID
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.DB.ReleaseEmails(rctx, ids); err != nil {
		// They stay 'sending' and the next start recovers them; nothing was sent.
		w.logger().Error("mail: hand back unsent emails", "count", len(ids), "err", err)
	}
	seen := map[string]bool{}
	for _, e := range rest {
		if !seen[e.InquiryID] {
			seen[e.InquiryID] = true
			w.notify(e.InquiryID)
		}
	}
}

// deliver sends one claimed email and records the outcome. Neither the send nor the record is
// cut short by ctx: a shutdown waits for them (bounded by SendTimeout).
func (w *Worker) deliver(ctx context.Context, s *Sender, e db.OutboxEmail) {
	log := w.logger().With("email", e.ID, "inquiry", e.InquiryID, "kind", e.Kind, "attempt", e.Attempts)
	bg := context.WithoutCancel(ctx)
	sctx, cancel := context.WithTimeout(bg, orDefault(w.SendTimeout, DefaultSendTimeout))
	// The send is recorded as soon as the server says 250, before QUIT: a server slow to answer
	// QUIT (or a crash meanwhile) must not leave an accepted email looking unsent.
	err := s.SendThen(sctx, Message{To: e.Recipient, Subject: e.Subject, Text: e.BodyText, HTML: e.BodyHTML, MessageID: e.MessageID},
		func() { w.recordSent(bg, e, log) })
	cancel()
	if err == nil {
		return
	}

	why := Explain(err)
	maxAttempts := orDefault(w.MaxAttempts, DefaultMaxAttempts)
	var merr error
	switch {
	case IsPermanent(err):
		log.Warn("mail: refused permanently", "err", err)
		merr = w.DB.MarkEmailFailed(bg, e.ID, why)
	case e.Attempts >= maxAttempts:
		log.Warn("mail: giving up", "err", err)
		merr = w.DB.MarkEmailFailed(bg, e.ID, fmt.Sprintf("%s (gave up after %d attempts)", why, e.Attempts))
	default:
		next := time.Now().Add(w.backoff(e.Attempts))
		log.Info("mail: will retry", "err", err, "next_attempt", next)
		merr = w.DB.MarkEmailRetry(bg, e.ID, next, why)
	}
	if merr != nil {
		// Left 'sending'; the next start queues it again. The server did not accept it.
		log.Error("mail: record failed attempt", "err", merr)
		return
	}
	w.notify(e.InquiryID)
}

// recordSent records that the server accepted e. Until this commits, a crash means the email
// is sent again after restart (the one duplicate window).
func (w *Worker) recordSent(ctx context.Context, e db.OutboxEmail, log *slog.Logger) {
	var err error
	for try := 0; try < 5; try++ {
		if err = w.DB.MarkEmailSent(ctx, e.ID, time.Now()); err == nil || errors.Is(err, db.ErrEmailState) {
			break
		}
		time.Sleep(time.Duration(50<<try) * time.Millisecond)
	}
	if err != nil {
		log.Error("mail: the server accepted the email but recording it failed; "+
			"it will be sent again when the worker restarts", "err", err)
		return
	}
	log.Debug("mail: sent")
	w.notify(e.InquiryID)
}

// pacer spaces sends interval apart (no burst after an idle spell).
type pacer struct {
	interval time.Duration
	next     time.Time
}

func (p *pacer) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.interval <= 0 {
		return nil
	}
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	d := p.next.Sub(now)
	p.next = p.next.Add(p.interval)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
