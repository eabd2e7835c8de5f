package bulk

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// A row whose reference ID has an open inquiry but whose name or email differs from it is not
// handed that person's link: the check lists it as differing, it is skipped by default, and
// only the choice made for it (address on file, or a new inquiry) sends anything. No email
// ever goes to an address that is not the inquiry's own.
func TestRowDifferingFromOpenInquiry(t *testing.T) {
	e := newEnv(t, sandbox.Knobs{}, 6000)
	ctx := context.Background()
	open := map[string]string{}
	for _, ref := range []string{"usr_a", "usr_b", "usr_c", "usr_same"} {
		res, err := e.svc.Create(ctx, staff, inquiry.CreateInput{TemplateID: sandbox.TemplateKYC, ReferenceID: ref,
			Fields: map[string]string{"name-first": "José", "name-last": "Müller-García", "email-address": ref + "@on.file"}})
		if err != nil || res.Inquiry == nil {
			t.Fatalf("create %s: %v", ref, err)
		}
		open[ref] = res.Inquiry.ID
	}
	file := "reference_id,first_name,last_name,email\n" +
		"usr_a,Other,Person,open@bulk.test\n" + // line 2: differs, no choice: skipped
		"usr_b,José,Müller-García,b@row.test\n" + // 3: differs (email): sent to the address on file, as chosen
		"usr_c,Cleo,New,c@row.test\n" + // 4: differs: a new inquiry, as chosen
		"usr_same,josé,MÜLLER-GARCÍA,USR_SAME@on.file\n" // 5: the same person: its link is used
	o := Options{TemplateID: sandbox.TemplateKYC, Email: true}
	c := e.check(file, o)
	if c.Counts[Differs] != 3 || c.Counts[Open] != 1 {
		t.Fatalf("check: %s", c.Summary())
	}
	if !strings.Contains(c.Summary(), "3 differing from the open inquiry") {
		t.Errorf("summary %q", c.Summary())
	}
	r := c.Rows[0]
	for _, want := range []string{"Differs from the open inquiry " + open["usr_a"], `First name: "José" on file, "Other" typed`,
		`Email: "usr_a@on.file" on file, "open@bulk.test" typed`, "Skipped unless you choose otherwise"} {
		if !strings.Contains(r.Problem, want) {
			t.Errorf("line 2 says %q, want %q", r.Problem, want)
		}
	}
	o.Choices = map[int]string{3: ChoiceOnFile, 4: ChoiceNew}
	c = e.check(file, o)
	if !strings.Contains(c.Rows[1].Problem, "address on file, as you chose") || !strings.Contains(c.Rows[2].Problem, "new inquiry is created") {
		t.Errorf("choices not said: %q / %q", c.Rows[1].Problem, c.Rows[2].Problem)
	}
	id, err := e.eng.Start(ctx, staff, "x.csv", o, c)
	if err != nil {
		t.Fatal(err)
	}
	e.run()
	p := e.waitFinished(id, 20*time.Second)
	if p.Counts[Skipped] != 1 || p.Counts[Reused] != 2 || p.Counts[Created] != 1 {
		t.Fatalf("outcomes %v, want 1 skipped, 2 reused, 1 created", p.Counts)
	}
	rows := e.rows(id)
	if rows[0].State != Skipped || rows[0].EmailID != 0 || !strings.Contains(rows[0].Detail, "Differs from the open inquiry "+open["usr_a"]) || !strings.Contains(rows[0].Detail, "Skipped: nothing was sent") {
		t.Errorf("line 2: %+v", rows[0])
	}
	if rows[2].InquiryID == open["usr_c"] || rows[2].InquiryID == "" {
		t.Errorf("line 4 made no new inquiry: %+v", rows[2])
	}
	if err := e.catcher.Wait(ctx, 3); err != nil {
		t.Fatal(err)
	}
	var to []string
	for _, m := range e.catcher.Messages() {
		to = append(to, m.To...)
	}
	slices.Sort(to)
	if want := []string{"c@row.test", "usr_b@on.file", "usr_same@on.file"}; !slices.Equal(to, want) {
		t.Errorf("emails went to %v, want %v", to, want)
	}
	emails, err := e.d.ListEmails(ctx, db.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range emails {
		if m.RecipientBasis != db.RecipientOwn {
			t.Errorf("email to %s: basis %q, want own", m.Recipient, m.RecipientBasis)
		}
	}
}

// "For all" applies one choice to every differing row; and an inquiry the check did not know
// (made at Persona meanwhile) is compared when the row's turn comes, so a differing row is
// skipped then rather than sent.
func TestDifferingRowsChoiceForAllAndLateFind(t *testing.T) {
	e := newEnv(t, sandbox.Knobs{}, 6000)
	ctx := context.Background()
	res, err := e.svc.Create(ctx, staff, inquiry.CreateInput{TemplateID: sandbox.TemplateKYC, ReferenceID: "usr_known",
		Fields: map[string]string{"email-address": "known@on.file"}})
	if err != nil {
		t.Fatal(err)
	}
	e.fullSync()
	elsewhere := e.createAtSandbox("usr_late", "late@on.file")
	file := "reference_id,email\nusr_known,someone@row.test\nusr_late,other@row.test\n"
	o := Options{TemplateID: sandbox.TemplateKYC, Email: true, ChoiceAll: ChoiceSkip, Choices: map[int]string{2: ChoiceNew}}
	c := e.check(file, o)
	if c.Counts[Differs] != 1 || c.Counts[Ready] != 1 {
		t.Fatalf("check: %s", c.Summary())
	}
	id, err := e.eng.Start(ctx, staff, "x.csv", o, c)
	if err != nil {
		t.Fatal(err)
	}
	e.run()
	p := e.waitFinished(id, 20*time.Second)
	rows := e.rows(id)
	if p.Counts[Skipped] != 2 || !strings.Contains(rows[0].Detail, res.Inquiry.ID+`: Email: "known@on.file" on file`) || rows[1].InquiryID != elsewhere || !strings.Contains(rows[1].Detail, "Skipped: nothing was sent") {
		t.Fatalf("outcomes %v, rows %+v", p.Counts, rows)
	}
	if n := e.sb.Stats().InquiriesCreated; n != 2 {
		t.Errorf("%d inquiries at Persona, want 2 (nothing created)", n)
	}
	if emails, _ := e.d.ListEmails(ctx, db.OutboxFilter{}); len(emails) != 0 {
		t.Errorf("queued %d emails, want none", len(emails))
	}
}
