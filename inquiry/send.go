package inquiry

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/mail"
	"github.com/linkdesk/linkdesk/model"
)

// ErrEmailWording means the admin's email wording does not render; nothing can be sent until
// it is fixed.
var ErrEmailWording = errors.New("the email wording on the Settings page has an error; an admin must fix it first")

// ErrNotOwnAddress refuses an address that is neither the inquiry's own nor one a staff member
// typed and confirmed for it: one person's link must never reach another.
var ErrNotOwnAddress = errors.New("the address is not the inquiry's own; a staff member must type and confirm another one")

// ErrInvalidRecipient is a recipient that is not one plain email address.
var ErrInvalidRecipient = errors.New("enter one email address, like name@example.com")

// ValidRecipient checks that addr is one plain address ("pat@example.com", no display name,
// no list, no line breaks).
func ValidRecipient(addr string) error {
	if addr == "" || len(addr) > 254 || strings.ContainsAny(addr, "\r\n\t ,;<>") {
		return ErrInvalidRecipient
	}
	a, err := netmail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr || !strings.Contains(addr[strings.LastIndexByte(addr, '@')+1:], ".") {
		return ErrInvalidRecipient
	}
	return nil
}

// --- sending ---

// linkEmail fills the templates' data for inquiry q and link url.
func (s *Service) linkEmail(a model.Actor, q *db.Inquiry, url string, expires, now time.Time) mail.LinkEmail {
	data := mail.LinkEmail{
		Link:    url,
		Expiry:  mail.ExpiresIn(expires, now),
		Company: s.Settings().Company,
	}
	if q.Fields != nil {
		data.FirstName = strings.TrimSpace(q.Fields["name-first"])
	}
	if a.ID != 0 {
		data.StaffName = a.Name // reminders come from the company, not from "Linkdesk"
	}
	return data
}

// Send emails the person a fresh link for the inquiry: the right kind for its status (the
// inquiry link while it is created, a one-time link once it is pending or expired; see
// NewLink), recorded in the links table, worded with the admin's templates. The outbox row and
// its audit entry are written in one transaction; Send returns at once and the worker delivers.
// It refuses a finished inquiry (ErrNoLinkNeeded) and a recipient that is not one plain
// address (ErrInvalidRecipient). The recipient is one the staff member a typed and confirmed
// (the Email form); the send log says whether it is the inquiry's own. key is the form's
// idempotency key: the same key again (a double click, a re-sent POST) returns the email it
// queued the first time.
func (s *Service) Send(ctx context.Context, a model.Actor, inquiryID, recipient, key string) (*db.OutboxEmail, error) {
	return s.sendKeyed(ctx, a, inquiryID, recipient, key, false, db.RecipientTyped)
}

// SendOnFile is Send to the inquiry's own address, for callers where nobody typed and
// confirmed one (bulk send): any other recipient is refused with ErrNotOwnAddress. fresh is
// for an inquiry this request has just created (CreateResult.Fresh): nobody has had its link,
// so the person cannot have started and its inquiry link, recorded by Create, is used without
// asking Persona again.
func (s *Service) SendOnFile(ctx context.Context, a model.Actor, inquiryID, recipient, key string, fresh bool) (*db.OutboxEmail, error) {
	return s.sendKeyed(ctx, a, inquiryID, recipient, key, fresh, db.RecipientOwn)
}

func (s *Service) sendKeyed(ctx context.Context, a model.Actor, inquiryID, recipient, key string, fresh bool, basis string) (*db.OutboxEmail, error) {
	if key != "" {
		// One send per form key at a time: a double click waits for the first and gets its
		// email, instead of asking Persona for a second one-time link meanwhile.
		unlock := s.keyLocks.Lock("send\x00" + key)
		defer unlock()
		if e, err := s.db.EmailByRequestKey(ctx, key); err == nil {
			return &e, nil
		} else if !errors.Is(err, db.ErrNotFound) {
			return nil, err
		}
	}
	return s.sendLink(ctx, a, inquiryID, recipient, "link", key, time.Now(), fresh, basis)
}

// send is a reminder's email: it goes to where the first link email went.
func (s *Service) send(ctx context.Context, a model.Actor, inquiryID, recipient, kind, key string, now time.Time) (*db.OutboxEmail, error) {
	return s.sendLink(ctx, a, inquiryID, recipient, kind, key, now, false, db.RecipientEarlier)
}

// sendLink queues the email. basis is what the caller vouches for: RecipientOwn (nothing, so
// the address must be the inquiry's own), RecipientTyped (a staff member typed and confirmed
// it) or RecipientEarlier (a reminder, to where an earlier email went). The recipient is
// checked before a link is issued, so a refused one uses up nothing.
func (s *Service) sendLink(ctx context.Context, a model.Actor, inquiryID, recipient, kind, key string, now time.Time, fresh bool, basis string) (*db.OutboxEmail, error) {
	recipient = strings.TrimSpace(recipient)
	if err := ValidRecipient(recipient); err != nil {
		return nil, err
	}
	q0, err := s.db.GetInquiry(ctx, inquiryID)
	if err != nil {
		return nil, err
	}
	switch {
	case OwnAddress(q0, recipient):
		basis = db.RecipientOwn
	case basis == db.RecipientOwn, basis == db.RecipientTyped && a.ID == 0:
		return nil, ErrNotOwnAddress
	}
	// The wording first: a broken template must not use up a one-time link.
	t, err := s.EmailTemplates(ctx)
	if err != nil {
		return nil, err
	}
	if errs := CheckEmailTemplates(t); errs != nil {
		return nil, ErrEmailWording
	}
	l, err := s.linkForEmail(ctx, a, inquiryID, key, fresh)
	if err != nil {
		return nil, err
	}
	q, err := s.db.GetInquiry(ctx, inquiryID)
	if err != nil {
		return nil, err
	}
	subject, text, html, err := mail.Render(t.Subject, t.Text, t.HTML, s.linkEmail(a, q, l.URL, l.ExpiresAt, now))
	if err != nil {
		return nil, fmt.Errorf("word the link email: %w", err)
	}
	e := db.OutboxEmail{
		InquiryID: inquiryID, LinkID: l.ID, Kind: kind, Recipient: recipient,
		Subject: subject, BodyText: text, BodyHTML: html, QueuedBy: a.ID,
		// QueuedAt is the reminder loop's clock (it decides which day a reminder covers);
		// the email is due at once either way.
		QueuedAt: now, NextAttemptAt: time.Now(), RequestKey: key, RecipientBasis: basis,
	}
	if m := s.mail; m.Sender != nil {
		e.MessageID = m.Sender.NewMessageID()
	}
	detail := fmt.Sprintf("%s email to %s, %s, with a %s link: %q", kind, recipient, RecipientBasisWords(basis, a.Name), l.Kind, subject)
	id, err := s.db.AddEmail(ctx, e, audit(a, "email.queue", inquiryID, detail, nil))
	if err != nil {
		return nil, err
	}
	s.wakeWorker()
	s.changed(inquiryID)
	out, err := s.db.GetEmail(ctx, id)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// linkForEmail picks the link an email carries (see NewLink). Most emails go out before the
// person started: then Persona is asked once, and the inquiry link already recorded is reused
// rather than recorded again; for a fresh inquiry (see SendCreated) Persona is not asked at all.
func (s *Service) linkForEmail(ctx context.Context, a model.Actor, id, key string, fresh bool) (*db.Link, error) {
	if q, err := s.db.GetInquiry(ctx, id); err == nil && model.LinkFor(q.Status) == model.LinkInquiry {
		if !fresh {
			if q, err = s.Refresh(ctx, a, id); err != nil {
				return nil, err
			}
		}
		if model.LinkFor(q.Status) == model.LinkInquiry {
			cur, err := s.CurrentLink(ctx, q)
			if err != nil {
				return nil, err
			}
			if cur != nil && cur.Kind == "inquiry" && cur.URL == s.inquiryURL(id) {
				return cur, nil
			}
		}
	}
	return s.newLink(ctx, a, id, key)
}

// Draft is the link email as it would be sent now, for the preview before sending, the
// mail-app link and "Copy message".
type Draft struct {
	EmailPreview
	// Link is the link the draft carries: the inquiry link while it is created, else the
	// newest link still valid; nil when there is none yet (Send issues one).
	Link *db.Link
	// Fresh reports that Send issues a new link (a one-time link) other than the one shown.
	Fresh bool
}

// placeholderLink stands in for a link that Send will issue.
const placeholderLink = "(a new link is made when the email is sent)"

// Preview renders the link email for the inquiry without sending it or issuing a link.
func (s *Service) Preview(ctx context.Context, a model.Actor, q *db.Inquiry) (*Draft, error) {
	t, err := s.EmailTemplates(ctx)
	if err != nil {
		return nil, err
	}
	d := &Draft{}
	switch k := model.LinkFor(q.Status); {
	case k == model.LinkInquiry:
		d.Link = &db.Link{InquiryID: q.ID, Kind: "inquiry", URL: s.inquiryURL(q.ID), ExpiresAt: q.ExpiresAt}
	case k.Fresh():
		d.Fresh = true
		if d.Link, err = s.CurrentLink(ctx, q); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w (it is %s)", ErrNoLinkNeeded, q.Status.Phrase())
	}
	url, expires := placeholderLink, time.Time{}
	if d.Link != nil {
		url, expires = d.Link.URL, d.Link.ExpiresAt
	}
	subject, text, html, err := mail.Render(t.Subject, t.Text, t.HTML, s.linkEmail(a, q, url, expires, time.Now()))
	if err != nil {
		return nil, fmt.Errorf("the email wording on the Settings page has an error; an admin must fix it first: %w", err)
	}
	d.EmailPreview = EmailPreview{Subject: subject, Text: text, HTML: html}
	return d, nil
}

// RecipientBasisWords says why an email went to its address, for the send log and the audit
// log; by is the staff member who queued it.
func RecipientBasisWords(basis, by string) string {
	switch basis {
	case db.RecipientOwn:
		return "the inquiry's own address"
	case db.RecipientTyped:
		if by == "" {
			return "typed and confirmed by staff"
		}
		return "typed and confirmed by " + by
	case db.RecipientEarlier:
		return "where the first email went"
	}
	return ""
}
