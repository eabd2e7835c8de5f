package mail

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRenderDefaults(t *testing.T) {
	for _, tc := range []struct {
		name         string
		data         LinkEmail
		subject      string
		textHas      []string
		textLacks    []string
		htmlHas      []string
		htmlLacks    []string
		textExactEnd string
	}{
		{
			name:    "everything",
			data:    SampleLinkEmail(),
			subject: "Acme: please verify your identity",
			textHas: []string{"Hi Pat,\n", "Acme asks you to verify your identity", "Start here:\n" + SampleLinkEmail().Link + "\n",
				"The link expires in 23 hours.", "Ann Agent, Acme\n"},
			htmlHas: []string{"<p>Hi Pat,</p>", `href="` + SampleLinkEmail().Link + `"`, "The link expires in 23 hours.", "<p>Ann Agent, Acme</p>"},
		},
		{
			name:      "no name, no expiry, no company, no staff",
			data:      LinkEmail{Link: "https://example.com/v"},
			subject:   "Please verify your identity",
			textHas:   []string{"Hello,\n", "We ask you to verify", "https://example.com/v"},
			textLacks: []string{"Hi ,", "expires", "\n\n\n", " \n"},
			htmlHas:   []string{"<p>Hello,</p>", "We ask you"},
			htmlLacks: []string{"Hi ,", "expires", "<p></p>", "<p>, </p>"},
		},
		{
			name:      "company but no staff name",
			data:      LinkEmail{FirstName: "Pat", Link: "https://example.com/v", Company: "Acme"},
			subject:   "Acme: please verify your identity",
			textLacks: []string{", Acme"},
			htmlHas:   []string{"<p>Acme</p>"},
		},
		{
			name:      "markup in the name is escaped in HTML",
			data:      LinkEmail{FirstName: `<b onclick="x()">Pat</b>`, Link: "https://example.com/v?a=1&b=2"},
			textHas:   []string{`Hi <b onclick="x()">Pat</b>,`, "https://example.com/v?a=1&b=2"},
			htmlHas:   []string{"Hi &lt;b onclick=&#34;x()&#34;&gt;Pat&lt;/b&gt;,", `href="https://example.com/v?a=1&amp;b=2"`},
			htmlLacks: []string{"<b onclick"},
		},
		{
			name:      "a javascript: link is neutralised in HTML",
			data:      LinkEmail{FirstName: "Pat", Link: "javascript:alert(1)"},
			htmlHas:   []string{`href="#ZgotmplZ"`},
			htmlLacks: []string{`href="javascript:`},
		},
	} {
		subject, text, html, err := Render(DefaultSubject, DefaultText, DefaultHTML, tc.data)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if tc.subject != "" && subject != tc.subject {
			t.Errorf("%s: subject %q, want %q", tc.name, subject, tc.subject)
		}
		check := func(part, got string, has, lacks []string) {
			for _, s := range has {
				if !strings.Contains(got, s) {
					t.Errorf("%s: %s lacks %q:\n%s", tc.name, part, s, got)
				}
			}
			for _, s := range lacks {
				if strings.Contains(got, s) {
					t.Errorf("%s: %s has %q:\n%s", tc.name, part, s, got)
				}
			}
		}
		check("text", text, tc.textHas, tc.textLacks)
		check("html", html, tc.htmlHas, tc.htmlLacks)
		if strings.Contains(text, "\n\n\n") || strings.HasPrefix(text, "\n") || !strings.HasSuffix(text, "\n") {
			t.Errorf("%s: text not tidy: %q", tc.name, text)
		}
	}
}

func TestRenderSubjectIsOneLine(t *testing.T) {
	subject, _, _, err := Render("  Hello\n{{.FirstName}}\r\n  from {{.Company}}  ", "x", "", LinkEmail{FirstName: "Pat\nBcc: x@evil.example", Company: "Acme\r\n"})
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Hello Pat Bcc: x@evil.example from Acme" {
		t.Fatalf("subject %q", subject)
	}
}

func TestRenderErrors(t *testing.T) {
	for _, tc := range []struct {
		name                string
		subject, text, html string
		part                string
		line                int
		want                string
	}{
		{"subject parse", "Hi {{.FirstName", "x", "", "subject", 1, "The subject has an error on line 1: "},
		{"text parse on line 3", "Hi", "Hello\n\n{{if .Link}}go", "", "text", 3, "The text version has an error on line 3: an {{if}} is not closed: end it with {{end}}"},
		{"unknown field", "Hi", "Hello\n{{.Nickname}}", "", "text", 2, "there is no {{.Nickname}}; you can use {{.FirstName}}"},
		{"unknown function", "Hi", "{{shout .FirstName}}", "", "text", 1, `function "shout" not defined`},
		{"html parse", "Hi", "x", "<p>\n{{end}}</p>", "html", 2, "The HTML version has an error on line 2: an {{end}} closes nothing"},
		{"placeholder with one brace", "Hi", "Hello\nyour link: {{.Link}", "", "text", 2,
			`The text version has an error on line 2: "{{.Link}" is not written as a placeholder: write each one with two braces on each side, like {{.Link}}; you can use {{.FirstName}}, {{.Link}}, {{.Expiry}}, {{.Company}} and {{.StaffName}}`},
		{"placeholder left open", "Hi {{.FirstName, welcome", "x {{.Link}}", "", "subject", 1, `"{{.FirstName, welcome" is not written as a placeholder`},
		{"html unknown field", "Hi", "x", "<p>\n\n{{.Nope}}</p>", "html", 3, "there is no {{.Nope}}"},
		{"html ambiguous URL", "Hi", "x", "<a href=\"{{.Link}}?x={{if .Link}}1\">", "html", 1, "The HTML version has an error on line 1"},
		{"empty subject", "{{.FirstName}}", "x", "", "subject", 0, "The subject has an error: the subject comes out empty"},
		{"empty text", "Hi", "{{.FirstName}}  \n", "", "text", 0, "the text version comes out empty"},
	} {
		_, _, _, err := Render(tc.subject, tc.text, tc.html, LinkEmail{Link: "https://example.com/v"})
		var te *TemplateError
		if !errors.As(err, &te) {
			t.Errorf("%s: %v, want a *TemplateError", tc.name, err)
			continue
		}
		if te.Part != tc.part || te.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: part %q line %d %q; want part %q line %d saying %q", tc.name, te.Part, te.Line, err, tc.part, tc.line, tc.want)
		}
	}
	// An empty HTML template means a text-only email.
	_, _, html, err := Render("Hi", "x", "  ", LinkEmail{})
	if err != nil || html != "" {
		t.Fatalf("empty HTML template: %q, %v", html, err)
	}
}

func TestExpiresIn(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, ""},
		{-time.Hour, ""},
		{30 * time.Second, "in less than a minute"},
		{time.Minute, "in 1 minute"},
		{45*time.Minute + 50*time.Second, "in 45 minutes"},
		{time.Hour, "in 1 hour"},
		{24*time.Hour - time.Minute, "in 23 hours"},
		{47 * time.Hour, "in 47 hours"},
		{48 * time.Hour, "in 2 days"},
		{7*24*time.Hour + 5*time.Hour, "in 7 days"},
	} {
		if got := ExpiresIn(now.Add(tc.d), now); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.d, got, tc.want)
		}
	}
	if got := ExpiresIn(time.Time{}, now); got != "" {
		t.Errorf("zero time: %q", got)
	}
}
