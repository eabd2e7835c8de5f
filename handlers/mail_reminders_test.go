package handlers

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

func TestReminderScheduleStopsOnCompletion(t *testing.T) {
	e := newMailTestEnv(t, true)
	ctx := context.Background()
	if err := e.db.SaveTemplate(ctx, db.Template{ID: sandbox.TemplateKYC, Name: "KYC", ReminderDays: "1,3"}, db.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	q := e.create("cust-6")
	mustContain(t, "before any email", e.page("/inquiries/"+q.ID), "Reminders: a fresh link on days 1 and 3 after the first email is delivered")
	first := e.waitState(e.send(q, "pat@example.com").ID, db.EmailSent)
	mustContain(t, "after the first email", e.page("/inquiries/"+q.ID), "Reminders: day 1 planned for "+localTime(first.SentAt.Add(inquiry.ReminderDay)))

	if n, err := e.inq.SendDueReminders(ctx, first.SentAt.Add(inquiry.ReminderDay+time.Minute)); n != 1 || err != nil {
		t.Fatalf("day 1: %d %v", n, err)
	}
	emails, _ := e.db.ListEmails(ctx, db.OutboxFilter{InquiryID: q.ID, Limit: 1})
	e.waitState(emails[0].ID, db.EmailSent)
	reminder := e.catcher.Messages()[0]
	if !strings.Contains(reminder.Text, e.sbURL+"/verify?inquiry-id="+q.ID) {
		t.Fatalf("reminder text %q", reminder.Text)
	}
	detail := e.page("/inquiries/" + q.ID)
	mustContain(t, "after day 1", detail, "day 1 sent, day 3 planned for", "<td>Reminder</td>")

	if err := e.sb.Complete(q.ID, true); err != nil {
		t.Fatal(err)
	}
	if n, err := e.inq.SendDueReminders(ctx, first.SentAt.Add(3*inquiry.ReminderDay+time.Minute)); n != 0 || err != nil {
		t.Fatalf("day 3 after completion: %d %v", n, err)
	}
	e.outboxSettled()
	if n := e.catcher.Count(); n != 2 {
		t.Fatalf("caught %d emails, want 2", n)
	}
	mustContain(t, "after completion", e.page("/inquiries/"+q.ID), "Reminders stopped: the inquiry is")
}

func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// localTime is how a page shows t (to the minute) for the browser to put in the viewer's zone.
func localTime(t time.Time) string {
	m := t.UTC().Truncate(time.Minute)
	return `<time datetime="` + m.Format(time.RFC3339) + `" title="` + when(m) + `" data-local>` + when(m) + `</time>`
}
