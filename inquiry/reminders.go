package inquiry

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
)

// ReminderDay is the unit of a template's reminder schedule.
const ReminderDay = 24 * time.Hour

// ParseReminderDays reads a template's schedule ("1,3") into sorted, distinct, positive days;
// anything else in it is ignored.
func ParseReminderDays(s string) []int {
	seen := map[int]bool{}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// remindable reports whether the person still has something to do, so a reminder makes sense.
// An expired inquiry is not reminded: that would resume it, which is staff's call.
func remindable(q *db.Inquiry) bool {
	return q.Status.Remindable() && q.RedactedAt.IsZero()
}

// dueDay is the latest scheduled day that has come at now, and when it came; ok is false
// before the first.
func dueDay(days []int, base, now time.Time) (day int, at time.Time, ok bool) {
	for _, d := range days {
		t := base.Add(time.Duration(d) * ReminderDay)
		if t.After(now) {
			break
		}
		day, at, ok = d, t, true
	}
	return day, at, ok
}

// SendDueReminders queues the reminders due at now and returns how many. For each open
// inquiry whose template has a schedule and whose first link email was sent, the latest day
// that has come gets one reminder (a day missed while the console was down is not sent late
// on top of the next). A reminder is sent through the same path as staff's emails, as the
// system, with a fresh link; Persona is asked for the status first, so a person who finished
// in the meantime is left alone, and the schedule ends by itself once the inquiry is
// completed, failed, expired, decided or redacted.
func (s *Service) SendDueReminders(ctx context.Context, now time.Time) (int, error) {
	cands, err := s.db.ReminderCandidates(ctx)
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for _, c := range cands {
		if ctx.Err() != nil {
			break
		}
		day, at, ok := dueDay(ParseReminderDays(c.ReminderDays), c.FirstSentAt, now)
		if !ok || !c.LastReminder.Before(at) {
			continue // nothing due yet, or this day's reminder is queued already
		}
		q, err := s.Refresh(ctx, model.System, c.InquiryID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !remindable(q) {
			continue // the refresh cached the final status: it is no candidate any more
		}
		e, err := s.send(ctx, model.System, c.InquiryID, c.Recipient, "reminder", "", now)
		if errors.Is(err, ErrNoLinkNeeded) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.log.Info("reminder queued", "inquiry", c.InquiryID, "day", day, "email", e.ID)
		sent++
	}
	return sent, errors.Join(errs...)
}

// RunReminders checks for due reminders every interval until ctx ends.
func (s *Service) RunReminders(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 10 * time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.SendDueReminders(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Warn("reminders: some could not be sent; trying again later", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ReminderStep is one day of an inquiry's reminder schedule.
type ReminderStep struct {
	Day     int
	Due     time.Time // zero until the first link email is sent
	State   string    // the reminder email's outbox state, or "planned", "skipped", "due"
	EmailID int64
}

// ReminderPlan is an inquiry's reminder schedule and how far it got.
type ReminderPlan struct {
	Days     []int
	Started  time.Time // when the first link email was sent; zero while none was
	Steps    []ReminderStep
	Stopped  bool   // the inquiry needs nothing more from the person
	Finished string // the status words when Stopped
}

// Reminders returns the inquiry's reminder schedule with what happened to each day, or nil when
// its template has none.
func (s *Service) Reminders(ctx context.Context, q *db.Inquiry) (*ReminderPlan, error) {
	t, err := s.db.GetTemplate(ctx, q.TemplateID)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	days := ParseReminderDays(t.ReminderDays)
	if len(days) == 0 {
		return nil, nil
	}
	emails, err := s.db.ListEmails(ctx, db.OutboxFilter{InquiryID: q.ID, Limit: 500})
	if err != nil {
		return nil, err
	}
	p := &ReminderPlan{Days: days, Stopped: !remindable(q)}
	if p.Stopped {
		p.Finished = q.Status.Phrase()
		if !q.RedactedAt.IsZero() {
			p.Finished = "redacted"
		}
	}
	var reminders []db.OutboxEmail // oldest first
	for i := len(emails) - 1; i >= 0; i-- {
		e := emails[i]
		switch {
		case e.Kind == "link" && e.State == db.EmailSent && (p.Started.IsZero() || e.SentAt.Before(p.Started)):
			p.Started = e.SentAt
		case e.Kind == "reminder":
			reminders = append(reminders, e)
		}
	}
	now := time.Now()
	for i, d := range days {
		st := ReminderStep{Day: d, State: "planned"}
		if p.Started.IsZero() {
			p.Steps = append(p.Steps, st)
			continue
		}
		st.Due = p.Started.Add(time.Duration(d) * ReminderDay)
		var end time.Time // the next day's start: a reminder queued before it covers this day
		if i+1 < len(days) {
			end = p.Started.Add(time.Duration(days[i+1]) * ReminderDay)
		}
		for _, e := range reminders {
			if !e.QueuedAt.Before(st.Due) && (end.IsZero() || e.QueuedAt.Before(end)) {
				st.State, st.EmailID = e.State, e.ID
				break
			}
		}
		if st.EmailID == 0 && !st.Due.After(now) {
			st.State = "due"
			if p.Stopped || (!end.IsZero() && !end.After(now)) {
				st.State = "skipped"
			}
		}
		p.Steps = append(p.Steps, st)
	}
	// A day without a reminder before one with a reminder was passed over.
	later := false
	for i := len(p.Steps) - 1; i >= 0; i-- {
		if p.Steps[i].EmailID != 0 {
			later = true
		} else if later {
			p.Steps[i].State = "skipped"
		}
	}
	return p, nil
}
