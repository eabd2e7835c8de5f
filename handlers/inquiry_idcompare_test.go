package handlers

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// The government ID card shows what the ID says (name, birthdate, the document number's last
// digits only) beside what staff entered, with a difference marked in words and a sign.
func TestVerificationComparesIDWithEntered(t *testing.T) {
	e := newMailTestEnv(t, false)
	u, _ := e.db.UserByEmail(context.Background(), "admin@example.com")
	for _, tc := range []struct {
		first, last string
		want        []string
		differs     bool
	}{
		// The sandbox's ID reads ALEXANDER J SAMPLE, I1234562, and the birthdate prefilled.
		{"Pat", "Doe", []string{"<th scope=\"row\">Name</th><td>Pat Doe</td><td>ALEXANDER J SAMPLE</td><td><strong><span aria-hidden=\"true\">≠ </span>Differs</strong></td>",
			"The ID differs from what was entered: name."}, true},
		{"Alexander", "Sample", []string{"<th scope=\"row\">Name</th><td>Alexander Sample</td><td>ALEXANDER J SAMPLE</td><td>Same</td>"}, false},
	} {
		res, err := e.inq.Create(context.Background(), model.Actor{ID: u.ID, Name: u.Name}, inquiry.CreateInput{
			TemplateID: sandbox.TemplateKYC, ReferenceID: "usr_" + strings.ToLower(tc.first),
			Fields: map[string]string{"name-first": tc.first, "name-last": tc.last, "birthdate": "1980-02-03"},
		})
		if err != nil {
			t.Fatal(err)
		}
		q := res.Inquiry
		if err := e.sb.Complete(q.ID, true); err != nil {
			t.Fatal(err)
		}
		e.waitStatus(t, q.ID, model.Approved)
		r, body := e.hx(e.admin, "GET", "/inquiries/"+q.ID+"/verifications", nil)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("verifications: %d %.300s", r.StatusCode, body)
		}
		body = html.UnescapeString(body)
		want := append(tc.want, "<caption>What the ID says, against what was entered</caption>",
			"<th scope=\"row\">Birthdate</th><td>1980-02-03</td><td>1980-02-03</td><td>Same</td>",
			"<th scope=\"row\">Document number</th><td>—</td><td>ending 4562</td>")
		mustContain(t, tc.first, body, want...)
		mustNotContain(t, tc.first, body, "I1234562", "1234562")
		if got := strings.Contains(body, "Differs"); got != tc.differs {
			t.Errorf("%s: marked as differing %v, want %v", tc.first, got, tc.differs)
		}
		if n := strings.Count(body, "<caption>What the ID says"); n != 1 {
			t.Errorf("%s: %d comparisons, want 1 (only the government ID reads an ID)", tc.first, n)
		}
	}
}
