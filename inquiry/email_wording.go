package inquiry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/linkdesk/linkdesk/mail"
	"github.com/linkdesk/linkdesk/model"
)

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
func (s *Service) PreviewTemplates(a model.Actor, t EmailTemplates) (EmailPreview, error) {
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
func (s *Service) SaveEmailTemplates(ctx context.Context, a model.Actor, t EmailTemplates) (map[string]string, error) {
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
	return nil, s.db.SetSettings(ctx, values, audit(a, "settings.email", "email wording", "changed the "+strings.Join(changed, ", "), nil))
}

// ResetEmailTemplates goes back to Linkdesk's own wording.
func (s *Service) ResetEmailTemplates(ctx context.Context, a model.Actor) error {
	return s.db.SetSettings(ctx, map[string]string{keyMailSubject: "", keyMailText: "", keyMailHTML: ""},
		audit(a, "settings.email", "email wording", "restored the default wording", nil))
}
