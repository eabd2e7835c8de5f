package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// Tags are bounded on create: too many, too long or odd characters get a message next to the
// field, the typed values stay, and nothing goes to Persona.
func TestCreateInquiryTagsBounded(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	e.addUser("agent@example.com", db.RoleAgent, pw)
	c := e.signIn("agent@example.com", pw)
	tags := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprintf("tag-%d", i)
		}
		return strings.Join(s, ", ")
	}
	for _, tt := range []struct {
		name, tags, words string
	}{
		{"too many", tags(21), "Use at most 20 tags (21 entered)."},
		{"far too many", tags(5000), "Use at most 20 tags (5000 entered)."},
		{"too long", strings.Repeat("x", 65), "up to 64 characters each"},
		{"odd characters", "vip, <b>", "Tags may use letters, digits, spaces and"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			form := alexanderForm(fmt.Sprintf("%032x", len(tt.tags)))
			form.Set("reference_id", "usr_"+strings.ReplaceAll(tt.name, " ", "_"))
			form.Set("tags", tt.tags)
			before := e.sb.Stats().InquiriesCreated
			res, body := e.do(c, "POST", "/inquiries", form)
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tt.words) {
				t.Fatalf("status %d, want 422 with %q", res.StatusCode, tt.words)
			}
			if !strings.Contains(body, `value="Alexander"`) || !strings.Contains(body, `name="tags"`) {
				t.Errorf("typed values not kept")
			}
			if n := e.sb.Stats().InquiriesCreated - before; n != 0 {
				t.Fatalf("sandbox created %d inquiries", n)
			}
		})
	}
	// Twenty is fine, and a tag repeated counts once.
	form := alexanderForm(fmt.Sprintf("%032x", 20))
	form.Set("tags", tags(20)+", tag-0, tag-1")
	res, _ := e.do(c, "POST", "/inquiries", form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("20 tags: status %d", res.StatusCode)
	}
	q, err := e.db.GetInquiry(t.Context(), createdID(res))
	if err != nil || len(q.Tags) != 20 {
		t.Fatalf("20 tags: cached %v, %v", q, err)
	}
}
