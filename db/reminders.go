package db

import (
	"context"
	"fmt"
	"time"
)

// ReminderCandidate is an inquiry that may be due a reminder: still created or pending, not
// redacted, made from a template with a reminder schedule, and sent a link email.
type ReminderCandidate struct {
	InquiryID    string
	ReminderDays string    // the template's schedule, e.g. "1,3"
	FirstSentAt  time.Time // when the first link email was accepted by the mail server
	LastReminder time.Time // when the newest reminder was queued; zero when none
	Recipient    string    // the recipient of the newest link email that was sent
}

// ReminderCandidates lists the inquiries the reminder loop looks at. It starts from the
// outbox's sent link emails (far fewer than inquiries) and keeps those whose inquiry is still
// open; the caller decides which are due.
func (d *DB) ReminderCandidates(ctx context.Context) ([]ReminderCandidate, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT o.inquiry_id, t.reminder_days, MIN(o.sent_at),
		COALESCE((SELECT MAX(r.queued_at) FROM outbox r WHERE r.inquiry_id = o.inquiry_id AND r.kind = 'reminder'), 0),
		(SELECT l.recipient FROM outbox l WHERE l.inquiry_id = o.inquiry_id AND l.kind = 'link' AND l.state = 'sent'
			ORDER BY l.sent_at DESC, l.id DESC LIMIT 1)
		FROM outbox o
		JOIN inquiries i ON i.id = o.inquiry_id
		JOIN templates t ON t.id = i.template_id
		WHERE o.kind = 'link' AND o.state = 'sent' AND i.status IN `+personWorkIn+` -- remindable
			AND i.redacted_at IS NULL AND t.reminder_days != ''
		GROUP BY o.inquiry_id`)
	if err != nil {
		return nil, fmt.Errorf("db: reminder candidates: %w", err)
	}
	defer rows.Close()
	var out []ReminderCandidate
	for rows.Next() {
		var c ReminderCandidate
		var first, last int64
		if err := rows.Scan(&c.InquiryID, &c.ReminderDays, &first, &last, &c.Recipient); err != nil {
			return nil, fmt.Errorf("db: reminder candidates: %w", err)
		}
		c.FirstSentAt = time.UnixMilli(first)
		if last != 0 {
			c.LastReminder = time.UnixMilli(last)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: reminder candidates: %w", err)
	}
	return out, nil
}
