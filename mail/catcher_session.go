package mail

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

type catcherSession struct {
	c      *Catcher
	conn   *smtp.Conn
	user   string
	from   string
	to     []string
	refuse RefuseMode
}

func (s *catcherSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *catcherSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		s.user = username
		return nil
	}), nil
}

func (s *catcherSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from, s.to = from, nil
	s.refuse = s.c.takeRefusal()
	return nil
}

func (s *catcherSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	switch s.refuse {
	case RefuseTemporary:
		return replyTemporary
	case RefusePermanent:
		return replyPermanent
	}
	s.to = append(s.to, to)
	return nil
}

func (s *catcherSession) Data(r io.Reader) error {
	if s.c.takeDrop() {
		// Read a little of the message, then hang up without a reply.
		io.CopyN(io.Discard, r, 64)
		s.conn.Conn().Close()
		return errors.New("catcher: dropped the connection mid-message")
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.c.takeHoldData() {
		s.c.holdUntilClosed(s.conn.Conn())
		return errors.New("catcher: held message discarded: the client hung up")
	}
	switch s.refuse {
	case RefuseTemporaryData:
		return replyTemporary
	case RefusePermanentData:
		return replyPermanentData
	}
	m := parseCaught(raw)
	m.From, m.To, m.AuthUser, m.Received = s.from, append([]string(nil), s.to...), s.user, time.Now()
	_, m.TLS = s.conn.TLSConnectionState()
	return s.c.accept(m)
}

func (s *catcherSession) Reset() {
	s.from, s.to, s.refuse = "", nil, RefuseNone
}

func (s *catcherSession) Logout() error { return nil }

// parseCaught reads the headers and the text and HTML parts of raw. A message it cannot parse
// is kept with what could be read (and Raw).
func parseCaught(raw []byte) Caught {
	m := Caught{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return m
	}
	m.Header = msg.Header
	dec := new(mime.WordDecoder)
	if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		m.Subject = subj
	} else {
		m.Subject = msg.Header.Get("Subject")
	}
	m.MessageID = strings.TrimSpace(msg.Header.Get("Message-Id"))
	walkPart(&m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
	return m
}

func walkPart(m *Caught, contentType, encoding string, body io.Reader, depth int) {
	if depth > 10 {
		return
	}
	if contentType == "" {
		contentType = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walkPart(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1)
		}
	}
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return
	}
	switch {
	case mt == "text/plain" && m.Text == "":
		m.Text = string(b)
	case mt == "text/html" && m.HTML == "":
		m.HTML = string(b)
	}
}
