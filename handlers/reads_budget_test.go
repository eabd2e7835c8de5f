package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/model"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// A viewer once spent the whole Persona budget: every verifications view, every distinct
// unknown id and every refresh was a call (4 viewer threads starved a bulk job). Verifications
// are kept per inquiry, unknown ids cost no call once the cache is complete, and each account
// has a budget of Persona-backed reads.
func TestViewerCannotSpendThePersonaBudget(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, func(st *inquiry.Settings) { st.RateLimit = 6000; st.StaffReads = 5 })
	ctx := context.Background()
	e.addUser("vic@example.com", db.RoleViewer, pw)
	e.addUser("ada@example.com", db.RoleAdmin, pw)
	vic, ada := e.signIn("vic@example.com", pw), e.signIn("ada@example.com", pw)
	res, err := e.inq.Create(ctx, model.Actor{Name: "Ann"}, inquiry.CreateInput{TemplateID: sandbox.TemplateKYC, ReferenceID: "usr_1"})
	noErr(t, err)
	id := res.Inquiry.ID
	_, err = e.inq.Reconcile(ctx, true, nil) // the cache is complete
	noErr(t, err)
	calls := func() int64 { return e.sb.Stats().APICalls }

	before := calls()
	for range 5 {
		if res, body := e.do(vic, "GET", "/inquiries/"+id+"/verifications", nil); res.StatusCode != 200 {
			t.Fatalf("verifications: %d %.300s", res.StatusCode, body)
		}
	}
	if n := calls() - before; n != 1 {
		t.Errorf("5 views of one inquiry's verifications: %d Persona calls, want 1", n)
	}

	before = calls()
	for i := range 10 {
		unknown := fmt.Sprintf("inq_Unknown%021d", i)
		if res, _ := e.do(vic, "GET", "/inquiries/"+unknown, nil); res.StatusCode != 404 {
			t.Errorf("unknown id: %d", res.StatusCode)
		}
		if res, _ := e.do(vic, "GET", "/inquiries/"+unknown+"/verifications", nil); res.StatusCode != 404 {
			t.Errorf("unknown id's verifications: %d", res.StatusCode)
		}
	}
	if n := calls() - before; n != 0 {
		t.Errorf("10 unknown ids with the cache complete: %d Persona calls, want 0", n)
	}

	// The viewer's budget (5 a minute here; one went on the verifications) runs out; the
	// admin's does not.
	before = calls()
	refused := 0
	var body string
	for range 8 {
		var res *http.Response
		res, body = e.do(vic, "POST", "/inquiries/"+id+"/refresh", url.Values{})
		if res.StatusCode == http.StatusTooManyRequests {
			refused++
		}
	}
	if n := calls() - before; n != 4 || refused != 4 || !strings.Contains(body, "Wait a minute and try again") {
		t.Errorf("8 refreshes: %d Persona calls, %d refused; want 4 and 4 refused in words: %.300s", n, refused, body)
	}
	if res, body := e.do(ada, "POST", "/inquiries/"+id+"/refresh", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the admin's refresh: %d %.300s", res.StatusCode, body)
	}
}
