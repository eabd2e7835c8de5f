package mail

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/linkdesk/linkdesk/db"
)

// Message is one email to one recipient.
type Message struct {
	To        string // "pat@example.com" or "Pat Doe <pat@example.com>"
	Subject   string
	Text      string // the text/plain part
	HTML      string // the text/html part; when empty the email is text only
	MessageID string // "<random@host>"; generated when empty. A retry must reuse it.
}

// Errors a Message can be refused with before anything is sent; both are permanent.
var (
	ErrHeaderInjection = errors.New("contains a line break")
	ErrInvalidAddress  = errors.New("is not a valid email address")
)

// MessageError says which field of a message (or of the From / Reply-To settings) is wrong.
// It is permanent: sending the same message again cannot succeed.
type MessageError struct {
	Field string // "To", "Subject", "From", "Reply-To", "Message-ID", "Body"
	Value string
	Err   error
}

func (e *MessageError) Error() string { return "mail: " + e.words() }

func (e *MessageError) Unwrap() error { return e.Err }

func (e *MessageError) words() string {
	switch {
	case errors.Is(e.Err, ErrInvalidAddress):
		return fmt.Sprintf("the %s address %q %s", e.Field, e.Value, e.Err)
	case errors.Is(e.Err, ErrHeaderInjection):
		return fmt.Sprintf("the %s %s, which is not allowed in an email header", e.Field, e.Err)
	}
	return fmt.Sprintf("the %s %s", e.Field, e.Err)
}

// NewMessageID returns a fresh "<random@domain>" Message-ID whose domain is taken from the from
// address (e.g. "Acme <verify@acme.example>" gives "<...@acme.example>").
func NewMessageID(from string) string {
	host := ""
	if a, err := mail.ParseAddress(from); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			host = a.Address[i+1:]
		}
	}
	return db.NewMessageID(host)
}

// validate checks m and returns the parsed recipient and the bare Message-ID (without <>).
func (m Message) validate() (*mail.Address, string, error) {
	to := strings.TrimSpace(m.To)
	if to == "" {
		return nil, "", &MessageError{Field: "To", Err: errors.New("address is missing")}
	}
	rcpt, err := parseAddress("To", to)
	if err != nil {
		return nil, "", err
	}
	if hasControl(m.Subject) {
		return nil, "", &MessageError{Field: "Subject", Value: m.Subject, Err: ErrHeaderInjection}
	}
	id := strings.TrimSpace(m.MessageID)
	if hasControl(id) {
		return nil, "", &MessageError{Field: "Message-ID", Value: id, Err: ErrHeaderInjection}
	}
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	if id != "" && (strings.ContainsAny(id, " <>\t") || !strings.Contains(id, "@")) {
		return nil, "", &MessageError{Field: "Message-ID", Value: m.MessageID, Err: errors.New(`must look like <random@host>`)}
	}
	if strings.TrimSpace(m.Text) == "" && strings.TrimSpace(m.HTML) == "" {
		return nil, "", &MessageError{Field: "body", Err: errors.New("is empty")}
	}
	return rcpt, id, nil
}

// hasControl reports line breaks and other control characters (tab allowed), which would let a
// value end its header and start another.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return r != '\t' && (r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == '\u0085')
	})
}
