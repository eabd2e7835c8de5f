package inquiry

import (
	"context"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// remindEnv has the KYC template on a "1,3" schedule and one inquiry whose first link email was
// delivered; it returns the inquiry and when the email was sent.
func remindEnv(t *testing.T) (*mailEnv, *db.Inquiry, time.Time) {
	t.Helper()
	e := newMailEnv(t)
	ctx := context.Background()
	if err := e.db.SaveTemplate(ctx, db.Template{ID: sandbox.TemplateKYC, Name: "KYC", IsDefault: true, ReminderDays: "1,3"}, db.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	q := e.create("cust-r")
	// Nothing is due before the first email was sent.
	if n, err := e.svc.SendDueReminders(ctx, time.Now().Add(10*ReminderDay)); n != 0 || err != nil {
		t.Fatalf("before any email: %d %v", n, err)
	}
	m, err := e.svc.Send(ctx, mailStaff, q.ID, "pat@example.com", "")
	if err != nil {
		t.Fatal(err)
	}
	sent := e.waitState(m.ID, db.EmailSent)
	return e, q, sent.SentAt
}

func (e *mailEnv) reminders(q *db.Inquiry) []ReminderStep {
	e.t.Helper()
	cur, err := e.db.GetInquiry(context.Background(), q.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := e.svc.Reminders(context.Background(), cur)
	if err != nil || p == nil {
		e.t.Fatalf("reminders: %v %v", p, err)
	}
	return p.Steps
}

func TestRemindersStopOnCompletion(t *testing.T) {
	e, q, base := remindEnv(t)
	ctx := context.Background()

	if n, err := e.svc.SendDueReminders(ctx, base.Add(ReminderDay-time.Minute)); n != 0 || err != nil {
		t.Fatalf("before day 1: %d %v", n, err)
	}
	if st := e.reminders(q); st[0].State != "planned" || st[1].State != "planned" || !st[0].Due.Equal(base.Add(ReminderDay)) {
		t.Fatalf("plan before day 1: %+v", st)
	}

	day1 := base.Add(ReminderDay + time.Minute)
	if n, err := e.svc.SendDueReminders(ctx, day1); n != 1 || err != nil {
		t.Fatalf("day 1: %d %v", n, err)
	}
	if n, err := e.svc.SendDueReminders(ctx, day1.Add(time.Hour)); n != 0 || err != nil {
		t.Fatalf("day 1 again: %d %v", n, err)
	}
	emails, _ := e.db.ListEmails(ctx, db.OutboxFilter{InquiryID: q.ID})
	r := emails[0]
	if r.Kind != "reminder" || r.QueuedBy != 0 || r.Recipient != "pat@example.com" || r.LinkID == 0 {
		t.Fatalf("reminder %+v", r)
	}
	e.waitState(r.ID, db.EmailSent)
	if st := e.reminders(q); st[0].State != db.EmailSent || st[0].EmailID != r.ID || st[1].State != "planned" {
		t.Fatalf("plan after day 1: %+v", st)
	}

	// The person finishes; the day 3 reminder must not go out.
	if err := e.sb.Complete(q.ID, true); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.SendDueReminders(ctx, base.Add(3*ReminderDay+time.Minute)); n != 0 || err != nil {
		t.Fatalf("day 3 after completion: %d %v", n, err)
	}
	cur, _ := e.db.GetInquiry(ctx, q.ID)
	if remindable(cur) {
		t.Fatalf("status after the reminder check: %s", cur.Status)
	}
	p, _ := e.svc.Reminders(ctx, cur)
	if !p.Stopped || p.Steps[1].State != "planned" {
		t.Fatalf("plan after completion: %+v", p)
	}
	// And it no longer looks at it at all (no Persona call per tick for a finished inquiry).
	if c, _ := e.db.ReminderCandidates(ctx); len(c) != 0 {
		t.Fatalf("candidates after completion: %+v", c)
	}
	if n, _ := e.db.CountEmailsByState(ctx); n[db.EmailSent] != 2 || n[db.EmailQueued] != 0 {
		t.Fatalf("emails %v", n)
	}
}

func TestRemindersSkipMissedDay(t *testing.T) {
	e, q, base := remindEnv(t)
	ctx := context.Background()
	// The console was off on day 1 and comes back on day 4: one reminder, not two.
	day4 := base.Add(4 * ReminderDay)
	if n, err := e.svc.SendDueReminders(ctx, day4); n != 1 || err != nil {
		t.Fatalf("day 4: %d %v", n, err)
	}
	if n, _ := e.svc.SendDueReminders(ctx, day4.Add(time.Minute)); n != 0 {
		t.Fatalf("day 4 again: %d", n)
	}
	st := e.reminders(q)
	if st[0].State != "skipped" || st[1].EmailID == 0 {
		t.Fatalf("plan: %+v", st)
	}
}

func TestRemindersStopOnExpiry(t *testing.T) {
	e, q, base := remindEnv(t)
	ctx := context.Background()
	e.simulate(q.ID, "expire_inquiry")
	if n, err := e.svc.SendDueReminders(ctx, base.Add(ReminderDay+time.Minute)); n != 0 || err != nil {
		t.Fatalf("expired: %d %v", n, err)
	}
	// Not resumed behind staff's back.
	if cur, _ := e.db.GetInquiry(ctx, q.ID); cur.Status != "expired" {
		t.Fatalf("status %s", cur.Status)
	}
}
