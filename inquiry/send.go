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

// MailSetup is how the service reaches the mail side. Either part may be nil: without a Sender
// emails wait in the outbox.
type MailSetup struct {
	Sender *mail.Sender // the company's SMTP relay
	Worker *mail.Worker // woken after an email is queued
}

// MailStatus describes the mail settings for the pages, without the password.
type MailStatus struct {
	Configured bool
	Summary    string // "smtp.example.com:587, STARTTLS required, signing in as mailer"
	From       string
	ReplyTo    string
}

// ErrMailNotConfigured means no SMTP server is set: emails wait in the outbox.
var ErrMailNotConfigured = errors.New("no mail server is configured: an admin must set LINKDESK_SMTP_URL and LINKDESK_MAIL_FROM and restart Linkdesk; until then emails wait in the outbox")

// MailStatus reports whether emails can leave and through which server.
func (s *Service) MailStatus() MailStatus {
	m := s.mail
	if m.Sender == nil {
		return MailStatus{}
	}
	c := m.Sender.Config()
	return MailStatus{Configured: true, Summary: c.Summary(), From: c.From, ReplyTo: c.ReplyTo}
}

// emailChanged tells the change listeners that an email of the inquiry moved, so open pages
// refresh (the worker tells the same listeners itself). Emails of no inquiry change no page.
func (s *Service) emailChanged(inquiryID string) {
	if inquiryID != "" {
		s.changed(inquiryID)
	}
}

func (s *Service) wakeWorker() {
	if w := s.mail.Worker; w != nil {
		w.Wake()
	}
}

// ErrEmailWording means the admin's email wording does not render; nothing can be sent until
// it is fixed.
var ErrEmailWording = errors.New("the email wording on the Settings page has an error; an admin must fix it first")

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

// --- the admin's wording ---

// EmailTemplates is the wording of the link email: Go templates over mail.LinkEmail.
type EmailTemplates struct {
	Subject, Text, HTML string
}

// DefaultEmailTemplates is Linkdesk's own wording.
func DefaultEmailTemplates() EmailTemplates {
	return EmailTemplates{Subject: mail.DefaultSubject, Text: mail.DefaultText, HTML: mail.DefaultHTML}
}

// Settings keys of the wording. An empty or missing value means the default, so improvements to
// the default reach everyone who never changed it.
const (
	keyMailSubject = "mail.subject"
	keyMailText    = "mail.text"
	keyMailHTML    = "mail.html"
)

// EmailTemplates returns the wording in force: the admin's, or the default for each part.
func (s *Service) EmailTemplates(ctx context.Context) (EmailTemplates, error) {
	stored, err := s.db.Settings(ctx)
	if err != nil {
		return EmailTemplates{}, err
	}
	t := DefaultEmailTemplates()
	if v := stored[keyMailSubject]; strings.TrimSpace(v) != "" {
		t.Subject = v
	}
	if v := stored[keyMailText]; strings.TrimSpace(v) != "" {
		t.Text = v
	}
	if v := stored[keyMailHTML]; strings.TrimSpace(v) != "" {
		t.HTML = v
	}
	return t, nil
}

// Template size limits keep a pasted mistake from becoming every email.
const (
	maxSubjectTemplate = 500
	maxBodyTemplate    = 100 << 10
)

// CheckEmailTemplates renders t with sample data and returns the problems per part (keys
// subject, text, html), in words with the line, or nil.
func CheckEmailTemplates(t EmailTemplates) map[string]string {
	errs := map[string]string{}
	if len(t.Subject) > maxSubjectTemplate {
		errs["subject"] = fmt.Sprintf("The subject is too long: use at most %d characters.", maxSubjectTemplate)
	}
	if len(t.Text) > maxBodyTemplate {
		errs["text"] = "The text version is too long: use at most 100 KB."
	}
	if len(t.HTML) > maxBodyTemplate {
		errs["html"] = "The HTML version is too long: use at most 100 KB."
	}
	if len(errs) > 0 {
		return errs
	}
	sample := mail.SampleLinkEmail()
	d := DefaultEmailTemplates()
	// Each part on its own, so every broken part is reported at once.
	check := func(part string, sub, text, html string) {
		_, text2, html2, err := mail.Render(sub, text, html, sample)
		var te *mail.TemplateError
		switch {
		case errors.As(err, &te):
			errs[part] = te.Error() + "."
		case err != nil:
			errs[part] = err.Error()
		case part == "text" && !strings.Contains(text2, sample.Link):
			errs[part] = "The text version must contain {{.Link}}, or the person gets no link."
		case part == "html" && !strings.Contains(html2, sample.Link):
			errs[part] = "The HTML version must contain {{.Link}} (for example in <a href=\"{{.Link}}\">), or the person gets no link."
		}
	}
	check("subject", t.Subject, d.Text, "")
	check("text", d.Subject, t.Text, "")
	check("html", d.Subject, d.Text, t.HTML)
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// EmailPreview is a rendered email, for the pages.
type EmailPreview struct {
	Subject, Text, HTML string
}

// PreviewTemplates renders t with made-up data, the company name in force and the admin's own
// name, for the live preview on the Settings page. The error is a *mail.TemplateError.
func (s *Service) PreviewTemplates(a Actor, t EmailTemplates) (EmailPreview, error) {
	data := mail.SampleLinkEmail()
	data.Company = s.Settings().Company
	if a.Name != "" {
		data.StaffName = a.Name
	}
	subject, text, html, err := mail.Render(t.Subject, t.Text, t.HTML, data)
	return EmailPreview{Subject: subject, Text: text, HTML: html}, err
}

// SaveEmailTemplates validates and stores an admin's wording, with an audit entry. It returns
// problems per part (subject, text, html). A part equal to the default is stored as "use the
// default"; ResetEmailTemplates goes back to the defaults.
func (s *Service) SaveEmailTemplates(ctx context.Context, a Actor, t EmailTemplates) (map[string]string, error) {
	t.Subject = strings.TrimSpace(t.Subject)
	t.Text = strings.ReplaceAll(t.Text, "\r\n", "\n")
	t.HTML = strings.ReplaceAll(t.HTML, "\r\n", "\n")
	d := DefaultEmailTemplates()
	if t.Subject == "" {
		t.Subject = d.Subject
	}
	if strings.TrimSpace(t.Text) == "" {
		t.Text = d.Text
	}
	if strings.TrimSpace(t.HTML) == "" {
		t.HTML = d.HTML
	}
	if errs := CheckEmailTemplates(t); errs != nil {
		return errs, nil
	}
	cur, err := s.EmailTemplates(ctx)
	if err != nil {
		return nil, err
	}
	var changed []string
	values := map[string]string{}
	for _, p := range []struct{ key, name, v, cur, def string }{
		{keyMailSubject, "subject", t.Subject, cur.Subject, d.Subject},
		{keyMailText, "text version", t.Text, cur.Text, d.Text},
		{keyMailHTML, "HTML version", t.HTML, cur.HTML, d.HTML},
	} {
		if strings.TrimSpace(p.v) == strings.TrimSpace(p.cur) {
			continue
		}
		changed = append(changed, p.name)
		values[p.key] = p.v
		if strings.TrimSpace(p.v) == strings.TrimSpace(p.def) {
			values[p.key] = ""
		}
	}
	if len(values) == 0 {
		return nil, nil
	}
	return nil, s.db.SetSettings(ctx, values, a.audit("settings.email", "email wording", "changed the "+strings.Join(changed, ", "), nil))
}

// ResetEmailTemplates goes back to Linkdesk's own wording.
func (s *Service) ResetEmailTemplates(ctx context.Context, a Actor) error {
	return s.db.SetSettings(ctx, map[string]string{keyMailSubject: "", keyMailText: "", keyMailHTML: ""},
		a.audit("settings.email", "email wording", "restored the default wording", nil))
}

// --- sending ---

// linkEmail fills the templates' data for inquiry q and link url.
func (s *Service) linkEmail(a Actor, q *db.Inquiry, url string, expires, now time.Time) mail.LinkEmail {
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
// address (ErrInvalidRecipient). key is the form's idempotency key: the same key again (a
// double click, a re-sent POST) returns the email it queued the first time.
func (s *Service) Send(ctx context.Context, a Actor, inquiryID, recipient, key string) (*db.OutboxEmail, error) {
	if key != "" {
		// One send per form key at a time: a double click waits for the first and gets its
		// email, instead of asking Persona for a second one-time link meanwhile.
		unlock := s.keyLocks.lock("send\x00" + key)
		defer unlock()
		if e, err := s.db.EmailByRequestKey(ctx, key); err == nil {
			return &e, nil
		} else if !errors.Is(err, db.ErrNotFound) {
			return nil, err
		}
	}
	return s.send(ctx, a, inquiryID, recipient, "link", key, time.Now())
}

func (s *Service) send(ctx context.Context, a Actor, inquiryID, recipient, kind, key string, now time.Time) (*db.OutboxEmail, error) {
	recipient = strings.TrimSpace(recipient)
	if err := ValidRecipient(recipient); err != nil {
		return nil, err
	}
	// The wording first: a broken template must not use up a one-time link.
	t, err := s.EmailTemplates(ctx)
	if err != nil {
		return nil, err
	}
	if errs := CheckEmailTemplates(t); errs != nil {
		return nil, ErrEmailWording
	}
	l, err := s.linkForEmail(ctx, a, inquiryID, key)
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
		QueuedAt: now, NextAttemptAt: time.Now(), RequestKey: key,
	}
	if m := s.mail; m.Sender != nil {
		e.MessageID = m.Sender.NewMessageID()
	}
	detail := fmt.Sprintf("%s email to %s with a %s link: %q", kind, recipient, l.Kind, subject)
	id, err := s.db.AddEmail(ctx, e, a.audit("email.queue", inquiryID, detail, nil))
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
// rather than recorded again.
func (s *Service) linkForEmail(ctx context.Context, a Actor, id, key string) (*db.Link, error) {
	if q, err := s.db.GetInquiry(ctx, id); err == nil && model.LinkFor(q.Status) == model.LinkInquiry {
		if q, err = s.Refresh(ctx, a, id); err != nil {
			return nil, err
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
func (s *Service) Preview(ctx context.Context, a Actor, q *db.Inquiry) (*Draft, error) {
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
		return nil, fmt.Errorf("%w (it is %s)", ErrNoLinkNeeded, statusWords(q.Status))
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

// SendTest sends the link email with sample data to recipient at once, through the SMTP
// server, and returns the server's refusal in words (mail.Explain) when it fails.
func (s *Service) SendTest(ctx context.Context, a Actor, recipient string) error {
	recipient = strings.TrimSpace(recipient)
	if err := ValidRecipient(recipient); err != nil {
		return err
	}
	m := s.mail
	if m.Sender == nil {
		return ErrMailNotConfigured
	}
	t, err := s.EmailTemplates(ctx)
	if err != nil {
		return err
	}
	p, err := s.PreviewTemplates(a, t)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	err = m.Sender.Send(ctx, mail.Message{To: recipient, Subject: "[Test] " + p.Subject, Text: p.Text, HTML: p.HTML})
	audit := a.audit("email.test", recipient, "test email through "+m.Sender.Config().Summary(), nil)
	if err != nil {
		audit.Outcome = mail.Explain(err)
		s.log.Warn("test email failed", "to", recipient, "err", err)
	}
	if aerr := s.db.Audit(ctx, audit); aerr != nil {
		s.log.Error("audit test email", "err", aerr)
	}
	if err != nil {
		return &SendTestError{Words: mail.Explain(err), Err: err}
	}
	return nil
}

// SendTestError is a failed test email; Words says what the server answered.
type SendTestError struct {
	Words string
	Err   error
}

func (e *SendTestError) Error() string { return e.Words }
func (e *SendTestError) Unwrap() error { return e.Err }

// --- staff actions on the outbox ---

func (s *Service) emailTarget(ctx context.Context, id int64) (db.OutboxEmail, string, error) {
	e, err := s.db.GetEmail(ctx, id)
	if err != nil {
		return e, "", err
	}
	target := e.InquiryID
	if target == "" {
		target = e.Recipient
	}
	return e, target, nil
}

// RetryEmail queues a failed email again, with a fresh count of attempts. It returns the
// email; db.ErrEmailState when it is not failed.
func (s *Service) RetryEmail(ctx context.Context, a Actor, id int64) (db.OutboxEmail, error) {
	e, target, err := s.emailTarget(ctx, id)
	if err != nil {
		return e, err
	}
	detail := fmt.Sprintf("%s email %d to %s", e.Kind, id, e.Recipient)
	if err := s.db.StaffRetryEmail(ctx, id, a.audit("email.retry", target, detail, nil)); err != nil {
		return e, err
	}
	s.wakeWorker()
	s.emailChanged(e.InquiryID)
	return e, nil
}

// CancelEmail stops a queued email from being sent. It returns the email; db.ErrEmailState
// when it is no longer queued (it may be on its way already).
func (s *Service) CancelEmail(ctx context.Context, a Actor, id int64) (db.OutboxEmail, error) {
	e, target, err := s.emailTarget(ctx, id)
	if err != nil {
		return e, err
	}
	detail := fmt.Sprintf("%s email %d to %s", e.Kind, id, e.Recipient)
	if err := s.db.StaffCancelEmail(ctx, id, a.audit("email.cancel", target, detail, nil)); err != nil {
		return e, err
	}
	s.emailChanged(e.InquiryID)
	return e, nil
}
