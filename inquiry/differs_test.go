package inquiry

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
)

func TestDifferences(t *testing.T) {
	q := &db.Inquiry{Email: "Pat@Example.com", Fields: map[string]string{"name-first": "Pat", "name-last": "Doe", "birthdate": "1980-01-02"}}
	tests := []struct {
		typed map[string]string
		want  string
	}{
		{map[string]string{"name-first": " pat ", "email-address": "pat@example.COM"}, ""},
		{map[string]string{}, ""},
		{map[string]string{"email-address": "open@bulk.test"}, `Email: "Pat@Example.com" on file, "open@bulk.test" typed`},
		{map[string]string{"name-first": "José", "birthdate": "1981-01-02"}, `First name: "Pat" on file, "José" typed; Birthdate: "1980-01-02" on file, "1981-01-02" typed`},
	}
	for _, tt := range tests {
		if got := DifferencesText(Differences(q, tt.typed)); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.typed, got, tt.want)
		}
	}
	// A name the inquiry lacks is filled in; an email it lacks would send its link elsewhere.
	bare := &db.Inquiry{Fields: map[string]string{}}
	if got := DifferencesText(Differences(bare, map[string]string{"name-first": "Ann", "email-address": "ann@x.test"})); got != `Email: none on file, "ann@x.test" typed` {
		t.Errorf("bare inquiry: %q", got)
	}
}

// A link goes only to the inquiry's own address, or to one a staff member typed and confirmed
// on the Email form; the send log and the audit entry say which.
func TestSendOnlyToOwnOrConfirmedAddress(t *testing.T) {
	e := newMailEnv(t)
	ctx := context.Background()
	q := e.create("cust-own")
	if _, err := e.svc.SendOnFile(ctx, mailStaff, q.ID, "open@bulk.test", "", false); !errors.Is(err, ErrNotOwnAddress) {
		t.Fatalf("on-file send to another address: %v", err)
	}
	if _, err := e.svc.Send(ctx, model.System, q.ID, "open@bulk.test", ""); !errors.Is(err, ErrNotOwnAddress) {
		t.Fatalf("a send nobody typed: %v", err)
	}
	if links, _ := e.db.Links(ctx, q.ID); len(links) != 1 {
		t.Errorf("a refused send issued links: %d", len(links))
	}
	own, err := e.svc.SendOnFile(ctx, mailStaff, q.ID, "PAT@example.com", "", false)
	if err != nil || own.RecipientBasis != db.RecipientOwn {
		t.Fatalf("own address: %v %+v", err, own)
	}
	typed, err := e.svc.Send(ctx, mailStaff, q.ID, "pat.work@example.com", "")
	if err != nil || typed.RecipientBasis != db.RecipientTyped {
		t.Fatalf("typed address: %v %+v", err, typed)
	}
	entries, err := e.db.ListAudit(ctx, db.AuditFilter{Target: q.ID, Action: "email.queue"})
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, a := range entries {
		details = append(details, a.Detail)
	}
	all := strings.Join(details, "\n")
	for _, want := range []string{"to PAT@example.com, the inquiry's own address, with", "to pat.work@example.com, typed and confirmed by Ann Agent, with"} {
		if !strings.Contains(all, want) {
			t.Errorf("audit lacks %q: %s", want, all)
		}
	}
}
