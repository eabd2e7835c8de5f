package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Outbox states. An email moves queued → sending → sent, or back to queued for another attempt,
// or to failed (permanent refusal or too many attempts). Staff may cancel a queued email and
// retry a failed one.
const (
	EmailQueued   = "queued"
	EmailSending  = "sending"
	EmailSent     = "sent"
	EmailFailed   = "failed"
	EmailCanceled = "canceled"
)

// EmailStates lists every outbox state, in the order a page shows them.
var EmailStates = []string{EmailQueued, EmailSending, EmailSent, EmailFailed, EmailCanceled}

// ErrEmailState is returned when an outbox change is not allowed from the email's current
// state (for example canceling an email that is already being sent). Match it with errors.Is;
// the message says which state the email is in.
var ErrEmailState = errors.New("email is not in a state that allows this")

// OutboxEmail is one row of the outbox: one email to one recipient.
type OutboxEmail struct {
	ID            int64
	InquiryID     string // "" when the email belongs to no inquiry (a test email)
	LinkID        int64  // 0 when none
	Kind          string // "link", "reminder", "test", "staff" (an invitation or password reset) or "notice" (an assignment, to staff)
	Recipient     string
	Subject       string
	BodyText      string
	BodyHTML      string
	State         string
	Attempts      int // delivery attempts: counted at claim, taken back when a claim is released or recovered
	NextAttemptAt time.Time
	ClaimedAt     time.Time
	SentAt        time.Time
	QueuedAt      time.Time
	LastError     string // the last failure in words
	MessageID     string // "<random@host>", fixed at queue time so a retry reuses it
	QueuedBy      int64  // 0 for the system (reminders)
	QueuedByName  string // joined from users; "" for the system
	RequestKey    string // the form's key: one email per key ("" for none)
	// RecipientBasis says why the email went to Recipient: RecipientOwn, RecipientTyped or
	// RecipientEarlier ("" for emails queued before it was recorded, and test emails).
	RecipientBasis string
}

// Recipient bases: a link is emailed only to the inquiry's own address or one a staff member
// typed and confirmed for it; a reminder goes where the first email went.
const (
	RecipientOwn     = "own"
	RecipientTyped   = "typed"
	RecipientEarlier = "earlier"
)

// OutboxFilter narrows ListEmails; zero values mean "any".
type OutboxFilter struct {
	State     string
	InquiryID string
	Before    int64 // keyset: emails with id < Before
	Limit     int   // default 100, at most 500
}

const outboxColumns = `o.id, COALESCE(o.inquiry_id, ''), COALESCE(o.link_id, 0), o.kind, o.recipient,
	o.subject, o.body_text, o.body_html, o.state, o.attempts, o.next_attempt_at, o.claimed_at,
	o.sent_at, o.queued_at, o.last_error, o.message_id, COALESCE(o.queued_by, 0),
	COALESCE(u.name, ''), o.recipient_basis`

const outboxFrom = ` FROM outbox o LEFT JOIN users u ON u.id = o.queued_by`

func scanEmail(s scanner) (OutboxEmail, error) {
	var e OutboxEmail
	var next, queued int64
	var claimed, sent sql.NullInt64
	err := s.Scan(&e.ID, &e.InquiryID, &e.LinkID, &e.Kind, &e.Recipient, &e.Subject, &e.BodyText,
		&e.BodyHTML, &e.State, &e.Attempts, &next, &claimed, &sent, &queued, &e.LastError,
		&e.MessageID, &e.QueuedBy, &e.QueuedByName, &e.RecipientBasis)
	if err != nil {
		return e, err
	}
	e.NextAttemptAt = time.UnixMilli(next)
	e.QueuedAt = time.UnixMilli(queued)
	e.ClaimedAt = fromMS(claimed)
	e.SentAt = fromMS(sent)
	return e, nil
}

// NewMessageID returns a fresh Message-ID in its header form, "<random@host>". host should be
// the sending domain (the part after @ in the From address); when empty the machine's host
// name is used.
func NewMessageID(host string) string {
	var b [16]byte
	rand.Read(b[:])
	if host == "" {
		host = defaultMessageIDHost()
	}
	return "<" + hex.EncodeToString(b[:]) + "@" + host + ">"
}

func defaultMessageIDHost() string {
	h, err := os.Hostname()
	if err != nil || h == "" || strings.ContainsFunc(h, func(r rune) bool {
		return !(r == '.' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		return "linkdesk.invalid"
	}
	return h
}

// QueueEmail inserts e into the outbox inside the caller's transaction (the caller writes the
// audit entry in the same transaction, so an email is never queued without its record, nor
// recorded without being queued). The email starts queued and due at once, unless
// e.NextAttemptAt asks for later (a scheduled reminder). A MessageID is generated when e has
// none; it is stored in "<...>" form. It returns the new row's id.
func QueueEmail(ctx context.Context, tx *sql.Tx, e OutboxEmail) (int64, error) {
	if e.Kind == "" {
		e.Kind = "link"
	}
	if strings.TrimSpace(e.Recipient) == "" {
		return 0, errors.New("db: queue email: no recipient")
	}
	now := time.Now()
	if e.QueuedAt.IsZero() {
		e.QueuedAt = now
	}
	if e.NextAttemptAt.IsZero() {
		e.NextAttemptAt = e.QueuedAt
	}
	e.MessageID = strings.TrimSpace(e.MessageID)
	switch {
	case e.MessageID == "":
		e.MessageID = NewMessageID("")
	case !strings.HasPrefix(e.MessageID, "<"):
		e.MessageID = "<" + e.MessageID + ">"
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO outbox (inquiry_id, link_id, kind, recipient, subject,
		body_text, body_html, state, attempts, next_attempt_at, message_id, queued_by, queued_at, request_key, recipient_basis)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?, ?) RETURNING id`,
		sql.NullString{String: e.InquiryID, Valid: e.InquiryID != ""}, nullID(e.LinkID), e.Kind,
		e.Recipient, e.Subject, e.BodyText, e.BodyHTML, e.NextAttemptAt.UnixMilli(), e.MessageID,
		nullID(e.QueuedBy), e.QueuedAt.UnixMilli(), sql.NullString{String: e.RequestKey, Valid: e.RequestKey != ""}, e.RecipientBasis).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("db: queue email to %s: %w", e.Recipient, err)
	}
	return id, nil
}

// AddEmail queues e (see QueueEmail) and writes audit in the same transaction, so an email is
// never queued without its record. It returns the new row's id.
func (d *DB) AddEmail(ctx context.Context, e OutboxEmail, audit AuditEntry) (int64, error) {
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if e.RequestKey != "" {
			// The same form again: the email it queued the first time.
			err := tx.QueryRowContext(ctx, `SELECT id FROM outbox WHERE request_key = ?`, e.RequestKey).Scan(&id)
			if err == nil || !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		var err error
		if id, err = QueueEmail(ctx, tx, e); err != nil {
			return err
		}
		return AddAudit(ctx, tx, audit)
	})
	return id, err
}

// EmailByRequestKey returns the email queued by the form with this key, or ErrNotFound.
func (d *DB) EmailByRequestKey(ctx context.Context, key string) (OutboxEmail, error) {
	var id int64
	err := d.R.QueryRowContext(ctx, `SELECT id FROM outbox WHERE request_key = ?`, key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return OutboxEmail{}, ErrNotFound
	}
	if err != nil {
		return OutboxEmail{}, fmt.Errorf("db: email by request key: %w", err)
	}
	return d.GetEmail(ctx, id)
}

// ListEmails returns emails newest first.
func (d *DB) ListEmails(ctx context.Context, f OutboxFilter) ([]OutboxEmail, error) {
	var where []string
	var args []any
	if f.State != "" {
		where = append(where, "o.state = ?")
		args = append(args, f.State)
	}
	if f.InquiryID != "" {
		where = append(where, "o.inquiry_id = ?")
		args = append(args, f.InquiryID)
	}
	q, args := newestFirst(`SELECT `+outboxColumns+outboxFrom, "o.id", where, args, f.Before, f.Limit)
	rows, err := d.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: list emails: %w", err)
	}
	defer rows.Close()
	var out []OutboxEmail
	for rows.Next() {
		e, err := scanEmail(rows)
		if err != nil {
			return nil, fmt.Errorf("db: list emails: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: list emails: %w", err)
	}
	return out, nil
}

// GetEmail returns email id, or ErrNotFound.
func (d *DB) GetEmail(ctx context.Context, id int64) (OutboxEmail, error) {
	e, err := scanEmail(d.R.QueryRowContext(ctx, `SELECT `+outboxColumns+outboxFrom+` WHERE o.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("db: get email %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("db: get email %d: %w", id, err)
	}
	return e, nil
}

// CountEmailsByState returns how many emails are in each state; every state is present.
func (d *DB) CountEmailsByState(ctx context.Context) (map[string]int, error) {
	out := make(map[string]int, len(EmailStates))
	for _, s := range EmailStates {
		out[s] = 0
	}
	rows, err := d.R.QueryContext(ctx, `SELECT state, COUNT(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("db: count emails: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("db: count emails: %w", err)
		}
		out[s] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: count emails: %w", err)
	}
	return out, nil
}

// LastEmailState returns the state of the newest email queued for inquiryID and when it last
// moved: when it was sent, else when it was last attempted, else when it was queued. An inquiry
// with no email gives "", the zero time and no error.
func (d *DB) LastEmailState(ctx context.Context, inquiryID string) (string, time.Time, error) {
	var state string
	var at int64
	err := d.R.QueryRowContext(ctx, `SELECT state, COALESCE(sent_at, claimed_at, queued_at) FROM outbox
		WHERE inquiry_id = ? ORDER BY queued_at DESC, id DESC LIMIT 1`, inquiryID).Scan(&state, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("db: last email of %s: %w", inquiryID, err)
	}
	return state, time.UnixMilli(at), nil
}

// NextEmailDue returns when the earliest queued email falls due; ok is false when nothing is
// queued. The worker sleeps until then (or its poll interval, whichever is sooner).
func (d *DB) NextEmailDue(ctx context.Context) (at time.Time, ok bool, err error) {
	var next sql.NullInt64
	err = d.R.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'queued'`).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("db: next email due: %w", err)
	}
	return fromMS(next), next.Valid, nil
}
