package handlers

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// "Germany" typed into Country is saved as DE (it was cut to "Ge", Georgia): the field is a
// picker of names with the ISO code stored, and a bulk row may give a name or a code.
func TestCountryByName(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	e.addUser("agent@example.com", db.RoleAgent, pw)
	c := e.signIn("agent@example.com", pw)
	_, body := e.do(c, "GET", "/inquiries/new", nil)
	mustContain(t, "picker", body, `list="country-list"`, `<datalist id="country-list">`, `<option value="Germany">DE</option>`, `<option value="Georgia">GE</option>`)
	if strings.Contains(body, `maxlength="2"`) {
		t.Errorf("the country field still cuts what is typed to two letters")
	}
	f := alexanderForm(keyRe.FindStringSubmatch(body)[1])
	f.Set("address-country-code", "Germany")
	res, _ := e.do(c, "POST", "/inquiries", f)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", res.StatusCode)
	}
	q, err := e.inq.Get(context.Background(), createdID(res))
	if err != nil || q.Fields["address-country-code"] != "DE" {
		t.Fatalf("country saved as %q (%v), want DE", q.Fields["address-country-code"], err)
	}
	_, body = e.do(c, "GET", "/inquiries/"+q.ID, nil)
	mustContain(t, "detail", body, "Germany (DE)")
	// A country not in the table is refused in words, what was typed kept.
	f = alexanderForm(inquiry.NewKey())
	f.Set("reference_id", "usr_other")
	f.Set("address-country-code", "Narnia")
	res, body = e.do(c, "POST", "/inquiries", f)
	mustContain(t, "unknown country", html.UnescapeString(body), "Choose a country from the list, or enter its English name or two-letter code", `value="Narnia"`)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("unknown country: %d", res.StatusCode)
	}
	// Bulk: the same rule.
	_, body = e.postCSV(c, "/bulk/check", "x.csv", "reference_id,country\nusr_b1,Germany\nusr_b2,de\nusr_b3,Narnia\n", map[string]string{"template_id": sandbox.TemplateKYC})
	mustContain(t, "bulk", html.UnescapeString(body), "2 ready, 1 invalid", "Country: Choose a country from the list")
}
