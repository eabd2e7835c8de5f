package handlers

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

func alexanderForm(key string) url.Values {
	return url.Values{"key": {key}, "template_id": {sandbox.TemplateKYC}, "reference_id": {"usr_ABC123"},
		"name-first": {"Alexander"}, "name-last": {"Sample"}, "birthdate": {"1977-08-31"}}
}

var keyRe = regexp.MustCompile(`name="key" value="([0-9a-f]+)"`)

func TestCreateInquiryOverHTTP(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	e.addUser("agent@example.com", db.RoleAgent, pw)
	c := e.signIn("agent@example.com", pw)

	res, body := e.do(c, "GET", "/inquiries/new", nil)
	m := keyRe.FindStringSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("new inquiry form: %d, key found %v", res.StatusCode, m != nil)
	}
	// A double click: the same form twice.
	res1, _ := e.do(c, "POST", "/inquiries", alexanderForm(m[1]))
	res2, _ := e.do(c, "POST", "/inquiries", alexanderForm(m[1]))
	if res1.StatusCode != http.StatusSeeOther || res2.Header.Get("Location") != res1.Header.Get("Location") {
		t.Fatalf("double submit: %d %q then %d %q", res1.StatusCode, res1.Header.Get("Location"), res2.StatusCode, res2.Header.Get("Location"))
	}
	if n := e.sb.Stats().InquiriesCreated; n != 1 {
		t.Fatalf("sandbox created %d inquiries, want 1", n)
	}
	res, body = e.do(c, "GET", res1.Header.Get("Location"), nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("detail page: %d", res.StatusCode)
	}
	for _, want := range []string{`id="hosted-link"`, "Copy link", "This link stays the same until the person starts", "Refresh status", "<svg", "Alexander"} {
		if !strings.Contains(body, want) {
			t.Errorf("detail page lacks %q", want)
		}
	}
	// A new form for the same person meets the guard, with the typed values kept.
	_, body = e.do(c, "GET", "/inquiries/new", nil)
	res, body = e.do(c, "POST", "/inquiries", alexanderForm(keyRe.FindStringSubmatch(body)[1]))
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "Use existing inquiry") || !strings.Contains(body, `value="Alexander"`) {
		t.Fatalf("guard: %d", res.StatusCode)
	}
}

func TestCreateInquiryPersonaErrorsInWords(t *testing.T) {
	tests := []struct {
		name    string
		knobs   sandbox.Knobs
		tweak   func(*inquiry.Settings)
		status  int
		words   string
		sameKey bool // the form keeps its key only when retrying it is safe
	}{
		{"invalid key", sandbox.Knobs{}, func(s *inquiry.Settings) { s.APIKey = "persona_sandbox_wrong" }, http.StatusUnprocessableEntity, "Persona rejected the API key", false},
		{"unreachable", sandbox.Knobs{ErrorRate: 1}, nil, http.StatusBadGateway, "unreachable", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSandboxEnv(t, tt.knobs, func(s *inquiry.Settings) {
				s.MaxRetryElapsed = 50 * time.Millisecond
				if tt.tweak != nil {
					tt.tweak(s)
				}
			})
			e.addUser("agent@example.com", db.RoleAgent, pw)
			c := e.signIn("agent@example.com", pw)
			res, body := e.do(c, "POST", "/inquiries", alexanderForm("k1"))
			if res.StatusCode != tt.status || !strings.Contains(body, tt.words) {
				t.Fatalf("status %d, want %d with %q", res.StatusCode, tt.status, tt.words)
			}
			if !strings.Contains(body, `value="Alexander"`) {
				t.Error("typed values lost")
			}
			if kept := strings.Contains(body, `name="key" value="k1"`); kept != tt.sameKey {
				t.Errorf("key kept: %v, want %v", kept, tt.sameKey)
			}
		})
	}
}

func TestInquiryTemplateNotKnown(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	e.addUser("agent@example.com", db.RoleAgent, pw)
	c := e.signIn("agent@example.com", pw)
	form := alexanderForm("k2")
	form.Set("template_id", "itmpl_unknown")
	form.Set("birthdate", "31/08/1977")
	res, body := e.do(c, "POST", "/inquiries", form)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "This template is not known here") || !strings.Contains(body, "Enter the date as YYYY-MM-DD") {
		t.Fatalf("status %d", res.StatusCode)
	}
	if n := e.sb.Stats().APICalls; n != 0 {
		t.Errorf("an invalid form reached Persona (%d calls)", n)
	}
}
