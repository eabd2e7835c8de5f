package mail

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"regexp"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"
)

// LinkEmail is what the link email templates can use.
type LinkEmail struct {
	FirstName string // "" when unknown: the templates then greet without a name
	Link      string // the hosted-flow URL
	Expiry    string // in words, e.g. "in 23 hours"; "" when the link does not expire
	Company   string
	StaffName string
}

// SampleLinkEmail is made-up data for the admin's live preview of the templates.
func SampleLinkEmail() LinkEmail {
	return LinkEmail{
		FirstName: "Pat",
		Link:      "https://inquiry.withpersona.com/verify?inquiry-id=inq_SAMPLE",
		Expiry:    "in 23 hours",
		Company:   "Acme",
		StaffName: "Ann Agent",
	}
}

// The default link email. Admins may replace each in the settings; Render checks their edits.
const (
	DefaultSubject = `{{if .Company}}{{.Company}}: please verify your identity{{else}}Please verify your identity{{end}}`

	DefaultText = `{{if .FirstName}}Hi {{.FirstName}},{{else}}Hello,{{end}}

{{if .Company}}{{.Company}} asks{{else}}We ask{{end}} you to verify your identity. It takes a few minutes: have a photo ID at hand and use a phone or computer with a camera.

Start here:
{{.Link}}
{{if .Expiry}}
The link expires {{.Expiry}}.
{{end}}
If you did not expect this email, you can ignore it.

{{if .StaffName}}{{.StaffName}}{{if .Company}}, {{.Company}}{{end}}{{else}}{{.Company}}{{end}}
`

	DefaultHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Company}}{{.Company}}: please verify your identity{{else}}Please verify your identity{{end}}</title>
</head>
<body style="margin:0;padding:24px;background:#f5f6f8;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;color:#1f2328;">
<div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:32px;">
<p>{{if .FirstName}}Hi {{.FirstName}},{{else}}Hello,{{end}}</p>
<p>{{if .Company}}{{.Company}} asks{{else}}We ask{{end}} you to verify your identity. It takes a few minutes: have a photo ID at hand and use a phone or computer with a camera.</p>
<p style="margin:32px 0;"><a href="{{.Link}}" style="background:#1f6feb;color:#ffffff;text-decoration:none;padding:12px 20px;border-radius:6px;display:inline-block;font-weight:600;">Verify my identity</a></p>
{{- if .Expiry}}
<p>The link expires {{.Expiry}}.</p>
{{- end}}
<p style="font-size:14px;color:#57606a;">If the button does not work, copy this link into your browser:<br><a href="{{.Link}}" style="color:#1f6feb;word-break:break-all;">{{.Link}}</a></p>
<p style="font-size:14px;color:#57606a;">If you did not expect this email, you can ignore it.</p>
{{- if or .StaffName .Company}}
<p>{{.StaffName}}{{if and .StaffName .Company}}, {{end}}{{.Company}}</p>
{{- end}}
</div>
</body>
</html>
`
)

// TemplateError is a problem in one of the templates, for the admin's live preview.
type TemplateError struct {
	Part string // "subject", "text" or "html"
	Line int    // 1-based; 0 when unknown
	Msg  string
}

func (e *TemplateError) Error() string {
	name := map[string]string{"subject": "The subject", "text": "The text version", "html": "The HTML version"}[e.Part]
	if name == "" {
		name = "The template"
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s has an error on line %d: %s", name, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s has an error: %s", name, e.Msg)
}

// Go's template errors look like
//
//	template: text:3: unexpected "}" in operand
//	template: text:1:12: executing "text" at <.Nope>: can't evaluate field Nope in type mail.LinkEmail
//	html/template:html:5:10: {{.X}} appears in an ambiguous context within a URL
var templateErrRE = regexp.MustCompile(`^(?:html/)?template: ?[^:]*:(\d+)(?::\d+)?: (?:executing "[^"]*" at <[^>]*>: )?(.*)$`)

var fieldErrRE = regexp.MustCompile(`can't evaluate field (\w+) in type`)

func templateErr(part string, err error) error {
	te := &TemplateError{Part: part, Msg: err.Error()}
	if m := templateErrRE.FindStringSubmatch(err.Error()); m != nil {
		te.Line, _ = strconv.Atoi(m[1])
		te.Msg = m[2]
	} else {
		te.Msg = strings.TrimPrefix(strings.TrimPrefix(te.Msg, "html/template: "), "template: ")
	}
	if m := fieldErrRE.FindStringSubmatch(te.Msg); m != nil {
		te.Msg = fmt.Sprintf("there is no {{.%s}}; %s", m[1], placeholderList)
	}
	return te
}

// placeholderList names the placeholders the templates may use.
const placeholderList = "you can use {{.FirstName}}, {{.Link}}, {{.Expiry}}, {{.Company}} and {{.StaffName}}"

// placeholderRE finds what looks like a placeholder: from an opening brace to a closing one or
// the end of the line ("{{.Link}}", "{{.Link}", "{.Link}}", "{{ Link }}").
var placeholderRE = regexp.MustCompile(`\{+[^{}\n]*\}*|[^{}\s]*\}+`)

// wellFormed is a placeholder or action Go's templates read: "{{.Link}}", "{{ if .FirstName }}".
var wellFormed = regexp.MustCompile(`^\{\{-? ?[^{}]+? ?-?\}\}$`)

// parseErr is a template that could not be read, in words: the parser's message ("bad
// character U+007D '}'") names no placeholder, so this says which one on the line is not
// written right and lists those that can be used.
func parseErr(part, src string, err error) error {
	te := templateErr(part, err).(*TemplateError)
	lines := strings.Split(src, "\n")
	if te.Line > 0 && te.Line <= len(lines) {
		lines = lines[te.Line-1 : te.Line]
	}
	for _, l := range lines {
		for _, ph := range placeholderRE.FindAllString(l, -1) {
			if !wellFormed.MatchString(ph) {
				te.Msg = fmt.Sprintf("%q is not written as a placeholder: write each one with two braces on each side, like {{.Link}}; %s", ph, placeholderList)
				return te
			}
		}
	}
	switch {
	case te.Msg == "unexpected EOF":
		te.Msg = "an {{if}} is not closed: end it with {{end}}"
	case strings.HasPrefix(te.Msg, "unexpected {{end}}"):
		te.Msg = "an {{end}} closes nothing: remove it, or add the {{if}} it ends"
	}
	return te
}

// Render fills the three templates with data: text/template for the subject and the text
// version, html/template for the HTML version (so the name is escaped and the link is checked
// and escaped as a URL). The subject comes out as one line; the text version has trailing spaces
// and runs of blank lines tidied. An empty htmlTmpl gives an empty html (a text-only email).
// Errors are *TemplateError, in words with the line.
func Render(subjectTmpl, textTmpl, htmlTmpl string, data LinkEmail) (subject, text, html string, err error) {
	var b strings.Builder
	st, err := texttemplate.New("subject").Option("missingkey=error").Parse(subjectTmpl)
	if err != nil {
		return "", "", "", parseErr("subject", subjectTmpl, err)
	}
	if err := st.Execute(&b, data); err != nil {
		return "", "", "", templateErr("subject", err)
	}
	subject = strings.Join(strings.Fields(b.String()), " ")
	if subject == "" {
		return "", "", "", &TemplateError{Part: "subject", Msg: "the subject comes out empty"}
	}

	b.Reset()
	tt, err := texttemplate.New("text").Option("missingkey=error").Parse(textTmpl)
	if err != nil {
		return "", "", "", parseErr("text", textTmpl, err)
	}
	if err := tt.Execute(&b, data); err != nil {
		return "", "", "", templateErr("text", err)
	}
	text = tidyText(b.String())
	if text == "" {
		return "", "", "", &TemplateError{Part: "text", Msg: "the text version comes out empty"}
	}

	if strings.TrimSpace(htmlTmpl) == "" {
		return subject, text, "", nil
	}
	b.Reset()
	ht, err := htmltemplate.New("html").Option("missingkey=error").Parse(htmlTmpl)
	if err != nil {
		return "", "", "", parseErr("html", htmlTmpl, err)
	}
	if err := ht.Execute(&b, data); err != nil {
		var he *htmltemplate.Error
		if errors.As(err, &he) && he.Line > 0 {
			return "", "", "", &TemplateError{Part: "html", Line: he.Line, Msg: he.Description}
		}
		return "", "", "", templateErr("html", err)
	}
	return subject, text, b.String(), nil
}

var blankRuns = regexp.MustCompile(`\n{3,}`)

// tidyText trims trailing spaces from each line, keeps at most one blank line in a row, and trims
// the whole, so optional parts of a template leave no gaps.
func tidyText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	s = strings.TrimSpace(blankRuns.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
	if s == "" {
		return ""
	}
	return s + "\n"
}

// ExpiresIn says in words when a link expiring at expires runs out, seen from now: "in 45
// minutes", "in 23 hours", "in 6 days". It rounds down, so it never promises more time than
// there is. A zero or past time gives "".
func ExpiresIn(expires, now time.Time) string {
	if expires.IsZero() || !expires.After(now) {
		return ""
	}
	d := expires.Sub(now)
	plural := func(n int, unit string) string {
		if n == 1 {
			return "in 1 " + unit
		}
		return fmt.Sprintf("in %d %ss", n, unit)
	}
	switch {
	case d < time.Minute:
		return "in less than a minute"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d/(24*time.Hour)), "day")
}
