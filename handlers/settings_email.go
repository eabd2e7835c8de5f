package handlers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/views"
)

// --- Settings: the email wording and a test email ---

// emailSettingsView builds the Email section; form and test carry typed values and errors, or
// are empty for the stored wording.
func (s *Server) emailSettingsView(r *http.Request, form, test views.Form) (views.EmailSettingsView, error) {
	if form.Values == nil {
		t, err := s.inq.EmailTemplates(r.Context())
		if err != nil {
			return views.EmailSettingsView{}, err
		}
		form.Values = map[string]string{"subject": t.Subject, "text": t.Text, "html": t.HTML}
	}
	return views.EmailSettingsView{
		Mail: mailServer(s.inq.MailStatus()), Form: form, Test: test,
		Preview: s.templatePreview(r, form),
	}, nil
}

func (s *Server) templatePreview(r *http.Request, form views.Form) views.EmailPreview {
	t := inquiry.EmailTemplates{Subject: form.V("subject"), Text: form.V("text"), HTML: form.V("html")}
	p, err := s.inq.PreviewTemplates(actor(r), t)
	if err != nil {
		return views.EmailPreview{Error: sentence(err.Error())}
	}
	return views.EmailPreview{Subject: p.Subject, Text: p.Text, HTML: p.HTML, HTMLURL: s.previewURL(r, form.V("html"), time.Now())}
}

// previewTTL is how long a preview document's address works.
const previewTTL = 15 * time.Minute

// previewURL is the address of the preview document of draft, signed for the request's
// session until previewTTL from now.
func (s *Server) previewURL(r *http.Request, draft string, now time.Time) string {
	exp := strconv.FormatInt(now.Add(previewTTL).Unix(), 10)
	return "/settings/email/preview/html?" + url.Values{"html": {draft}, "exp": {exp}, "sig": {hex.EncodeToString(s.previewSig(cookieSID(s, r), exp, draft))}}.Encode()
}

// previewSig signs a draft for the preview document's address, bound to the admin's session
// and an expiry: only addresses this console made for this session lately render, so a link
// crafted elsewhere, or one taken from another admin's browser or history, cannot show its own
// HTML on the console's origin.
func (s *Server) previewSig(sid, exp, draft string) []byte {
	m := hmac.New(sha256.New, s.previewKey)
	for _, part := range []string{sid, exp, draft} {
		m.Write([]byte(strconv.Itoa(len(part)) + ":" + part))
	}
	return m.Sum(nil)
}

// validPreview checks a preview address's signature and expiry for the request's session.
func (s *Server) validPreview(r *http.Request, draft string, now time.Time) bool {
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("exp"), 10, 64)
	if err != nil || now.Unix() > exp || time.Unix(exp, 0).Sub(now) > previewTTL {
		return false
	}
	sig, err := hex.DecodeString(q.Get("sig"))
	return err == nil && hmac.Equal(sig, s.previewSig(cookieSID(s, r), q.Get("exp"), draft))
}

// cookieSID is the session id the request's cookie carries ("" without one).
func cookieSID(s *Server, r *http.Request) string {
	sess, _ := s.cookies.Get(r, sessionCookie)
	sid, _ := sess.Values["sid"].(string)
	return sid
}

// emailDocumentCSP lets an email's inline styles apply and nothing else: no script, no
// requests, no forms; links open in a new tab (the frame may not navigate elsewhere).
const emailDocumentCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'self'; base-uri 'none'; sandbox allow-popups allow-popups-to-escape-sandbox"

var headOpen = regexp.MustCompile(`(?i)<head[^>]*>`)

// writeEmailDocument serves an email's HTML version as a document of its own, for a sandboxed
// frame on one of the console's pages.
func writeEmailDocument(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Security-Policy", emailDocumentCSP)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	const base = `<base target="_blank">`
	if loc := headOpen.FindStringIndex(body); loc != nil {
		body = body[:loc[1]] + base + body[loc[1]:]
	} else {
		body = base + body
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// emailSettingsPreviewHTML is the HTML version of the wording being edited (the html
// parameter), rendered with the sample data, as recipients get it.
func (s *Server) emailSettingsPreviewHTML(w http.ResponseWriter, r *http.Request) {
	t := inquiry.DefaultEmailTemplates()
	t.HTML = r.URL.Query().Get("html")
	if !s.validPreview(r, t.HTML, time.Now()) {
		writeEmailDocument(w, http.StatusBadRequest, "<!DOCTYPE html><title>Email preview</title><p>This preview address was not made by this console for this sign-in, or it has expired. Open the preview from the Settings page.</p>")
		return
	}
	p, err := s.inq.PreviewTemplates(actor(r), t)
	if err != nil {
		writeEmailDocument(w, http.StatusUnprocessableEntity, "<!DOCTYPE html><title>Email preview</title><p>"+html.EscapeString(sentence(err.Error()))+"</p>")
		return
	}
	writeEmailDocument(w, http.StatusOK, p.HTML)
}

// settingsWithEmail is the whole Settings page with the Email section as its children.
func (s *Server) settingsWithEmail(r *http.Request, p views.Page, v views.SettingsView) templ.Component {
	return s.settingsPageWith(r, p, v, views.Form{}, views.Form{}, nil)
}

func (s *Server) settingsPageWith(r *http.Request, p views.Page, v views.SettingsView, form, test views.Form, edit func(*views.EmailSettingsView)) templ.Component {
	ev, err := s.emailSettingsView(r, form, test)
	if err != nil {
		return templ.ComponentFunc(func(context.Context, io.Writer) error { return err })
	}
	if edit != nil {
		edit(&ev)
	}
	v.Retention = s.retentionForm(r, v.Retention) // retention.go
	return views.SettingsWithEmail(p, v, ev)
}

func emailTemplateForm(r *http.Request) views.Form {
	return views.Form{Values: map[string]string{
		"subject": r.PostFormValue("subject"), "text": r.PostFormValue("text"), "html": r.PostFormValue("html"),
	}}
}

func (s *Server) saveEmailSettings(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	if r.PostFormValue("action") == "reset" {
		if err := s.inq.ResetEmailTemplates(r.Context(), a); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.flash(w, r, "The email wording is back to Linkdesk's default.")
		redirect(w, r, "/settings#email-settings")
		return
	}
	form := emailTemplateForm(r)
	errs, err := s.inq.SaveEmailTemplates(r.Context(), a, inquiry.EmailTemplates{Subject: form.V("subject"), Text: form.V("text"), HTML: form.V("html")})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(errs) > 0 {
		form.Errors = errs
		form.Error = "The email wording was not saved; see the messages next to the fields."
		p := s.page(r, "Settings", "settings")
		s.render(w, r, http.StatusUnprocessableEntity, s.settingsPageWith(r, p, s.settingsView(r, views.Form{}), form, views.Form{}, nil), nil)
		return
	}
	s.flash(w, r, "Email wording saved.")
	redirect(w, r, "/settings#email-settings")
}

// emailSettingsPreview answers the live preview while an admin types.
func (s *Server) emailSettingsPreview(w http.ResponseWriter, r *http.Request) {
	form := emailTemplateForm(r)
	pv := views.EmailTemplatePreview(s.templatePreview(r, form))
	if isFragment(r) { // each keystroke: only the preview, not the whole page around it
		s.render(w, r, http.StatusOK, pv, pv)
		return
	}
	p := s.page(r, "Settings", "settings")
	s.render(w, r, http.StatusOK, s.settingsPageWith(r, p, s.settingsView(r, views.Form{}), form, views.Form{}, nil), pv)
}

func (s *Server) sendTestEmail(w http.ResponseWriter, r *http.Request) {
	to := strings.TrimSpace(r.PostFormValue("test_to"))
	test := views.Form{Values: map[string]string{"test_to": to}, Errors: map[string]string{}}
	status, result, ok := http.StatusOK, "", false
	err := s.inq.SendTest(r.Context(), actor(r), to)
	var te *inquiry.SendTestError
	switch {
	case err == nil:
		// Sent: a redirect, so reloading the page that says so sends nothing more.
		s.flash(w, r, views.TestEmailAcceptedResult(to, s.catcher() != nil))
		redirect(w, r, "/settings")
		return
	case errors.Is(err, inquiry.ErrInvalidRecipient):
		status = http.StatusUnprocessableEntity
		test.Errors["test_to"] = "Enter one email address, like name@example.com."
	case errors.Is(err, inquiry.ErrMailNotConfigured):
		status, result = http.StatusConflict, sentence(err.Error())
	case errors.As(err, &te):
		status, result = http.StatusBadGateway, "The test email was not sent. "+te.Words
	default:
		s.serverError(w, r, err)
		return
	}
	p := s.page(r, "Settings", "settings")
	s.render(w, r, status, s.settingsPageWith(r, p, s.settingsView(r, views.Form{}), views.Form{}, test, func(ev *views.EmailSettingsView) {
		ev.TestResult, ev.TestOK = result, ok
	}), nil)
}
