package views

import (
	"net/url"
	"regexp"
	"strings"
	"time"
)

// OutboxView is the admins' Outbox page.
type OutboxView struct {
	State    string // the state filter, "" for all
	States   []StateCount
	Rows     []EmailRow
	More     string // URL of the next (older) page, "" when none
	Mail     MailServer
	CanAct   bool
	BackPath string // where Retry and Cancel return to
}

// StateCount is one state filter with its number of emails.
type StateCount struct {
	State, Label string
	N            int
}

// MailServer describes the SMTP settings in words, without the password.
type MailServer struct {
	Configured bool
	Summary    string
	From       string
	ReplyTo    string
}

// EmailSettingsView is the Email section of the Settings page.
type EmailSettingsView struct {
	Mail       MailServer
	Form       Form // subject, text, html
	Preview    EmailPreview
	Test       Form // test_to
	TestResult string
	TestOK     bool
}

// MailboxView is the dev-only Mailbox page.
type MailboxView struct {
	SMTPURL  string
	Messages []MailboxRow
	Refuse   string // the catcher's current answer, e.g. "none"
	Modes    []Option
}

// MailboxRow is one caught message in the list.
type MailboxRow struct {
	ID       int
	From     string
	To       string
	Subject  string
	Received time.Time
}

// MailboxMessage is one caught message.
type MailboxMessage struct {
	MailboxRow
	MessageID string
	Text      string
	HasHTML   bool
}

// EmailStateText is an outbox state in words.
func EmailStateText(s string) string {
	switch s {
	case "queued":
		return "Queued"
	case "sending":
		return "Sending"
	case "sent":
		return "Sent"
	case "failed":
		return "Failed"
	case "canceled":
		return "Canceled"
	}
	return s
}

func emailKindText(k string) string {
	switch k {
	case "link":
		return "Link"
	case "reminder":
		return "Reminder"
	case "test":
		return "Test"
	case "notice":
		return "Notice to staff"
	}
	return k
}

// MailtoURL builds a mailto: link with the subject and body filled in, for "Open in mail app".
func MailtoURL(to, subject, body string) string {
	q := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	body = strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n")
	return "mailto:" + url.PathEscape(to) + "?subject=" + q(subject) + "&body=" + q(body)
}

// textPart is a run of plain text, or a link when URL is set.
type textPart struct {
	Text, URL string
}

var linkRe = regexp.MustCompile(`https?://[^\s<>"]+`)

// linkify splits text into plain runs and http(s) links, so a text email's links can be followed.
func linkify(text string) []textPart {
	var out []textPart
	last := 0
	for _, m := range linkRe.FindAllStringIndex(text, -1) {
		u := strings.TrimRight(text[m[0]:m[1]], ".,;:!?)]}'")
		end := m[0] + len(u)
		if p, err := url.Parse(u); err != nil || p.Host == "" {
			continue
		}
		if m[0] > last {
			out = append(out, textPart{Text: text[last:m[0]]})
		}
		out = append(out, textPart{Text: u, URL: u})
		last = end
	}
	if last < len(text) {
		out = append(out, textPart{Text: text[last:]})
	}
	return out
}
