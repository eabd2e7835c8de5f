package e2e

import (
	"testing"

	"github.com/playwright-community/playwright-go"
)

// A bulk row whose reference ID has an open inquiry, but with another person's email, is
// flagged at the check as differing from it and, left at the default, sends nothing: the
// open inquiry's link (prefilled with its person's details) reaches no one, while the file's
// other row is sent as usual.
func TestBulkRowDifferingFromOpenInquirySendsNothing(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)

	click(t, p, lnk, "New inquiry")
	fill(t, p, "Reference ID", "usr_PRIV", "First name", "José", "Last name", "Müller-García", "Email address", "jose@example.com")
	click(t, p, btn, "Create inquiry")
	must(t, "created", expect.Locator(role(p, btn, "Copy link")).ToBeVisible())

	click(t, p, lnk, "Bulk")
	file := "reference_id,first_name,last_name,email\nusr_PRIV,Olga,Open,open@bulk.test\nusr_PRIV2,Nina,New,new@bulk.test\n"
	must(t, "choose file", label(p, "CSV file").SetInputFiles([]playwright.InputFile{{Name: "cohort.csv", MimeType: "text/csv", Buffer: []byte(file)}}))
	must(t, "email the links", label(p, "Email the links").Check())
	click(t, p, btn, "Check file")
	differs := p.GetByRole(*playwright.AriaRoleTable, playwright.PageGetByRoleOptions{Name: "Rows that differ from the open inquiry"})
	must(t, "row flagged", expect.Locator(differs.GetByRole(cell, playwright.LocatorGetByRoleOptions{Name: `Email: "jose@example.com" on file, "open@bulk.test" typed`})).ToBeVisible())
	must(t, "skip by default", expect.Locator(p.GetByRole(*playwright.AriaRoleCombobox, playwright.PageGetByRoleOptions{Name: "What to do with line 2"})).ToHaveValue("skip"))

	click(t, p, btn, "Start")
	status := p.Locator("#job")
	must(t, "done", expect.Locator(status.GetByText("Done", playwright.LocatorGetByTextOptions{Exact: playwright.Bool(true)})).ToBeVisible(playwright.LocatorAssertionsToBeVisibleOptions{Timeout: playwright.Float(30000)}))
	must(t, "skipped", expect.Locator(status.GetByRole(cell, playwright.LocatorGetByRoleOptions{Name: "Skipped: nothing was sent"})).ToBeVisible())

	click(t, p, lnk, "Mailbox")
	must(t, "mailbox", expect.Locator(role(p, hdg, "Mailbox")).ToBeVisible())
	// The other row's email arrived, so the Mailbox is working: what is absent was not sent.
	must(t, "the ready row's email", expect.Locator(p.GetByText("new@bulk.test").First()).ToBeVisible())
	for _, to := range []string{"open@bulk.test", "jose@example.com"} {
		if n, _ := p.GetByText(to).Count(); n != 0 {
			t.Errorf("the Mailbox has an email to %s", to)
		}
	}
}

// The New inquiry form meets an open inquiry for the reference ID with another person's
// details: it says what differs and offers the address on file, a new inquiry, or nothing,
// instead of "Use existing inquiry" (which dropped what was typed and prefilled the old address).
func TestNewInquiryDiffersFromOpenInquiry(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)
	click(t, p, lnk, "New inquiry")
	fill(t, p, "Reference ID", "usr_FORM1", "First name", "José", "Last name", "Müller-García", "Email address", "jose@example.com")
	click(t, p, btn, "Create inquiry")
	must(t, "created", expect.Locator(role(p, btn, "Copy link")).ToBeFocused())

	click(t, p, lnk, "New inquiry")
	fill(t, p, "Reference ID", "usr_FORM1", "First name", "Olga", "Last name", "Müller-García", "Email address", "olga@example.com")
	click(t, p, btn, "Create inquiry")
	must(t, "flagged", expect.Locator(role(p, hdg, "Differs from the open inquiry")).ToBeVisible())
	must(t, "what differs", expect.Locator(p.GetByRole("listitem").Filter(playwright.LocatorFilterOptions{HasText: `Email: "jose@example.com" on file, "olga@example.com" typed`})).ToBeVisible())
	must(t, "address on file offered", expect.Locator(role(p, btn, "Send its link to the address on file (jose@example.com)")).ToBeVisible())
	must(t, "send nothing offered", expect.Locator(role(p, btn, "Send nothing")).ToBeVisible())
	if n, _ := role(p, btn, "Use existing inquiry").Count(); n != 0 {
		t.Errorf("the form still offers the other person's inquiry to use")
	}
	click(t, p, btn, "Create a new inquiry")
	must(t, "new inquiry", expect.Locator(notice(p, "the details typed differ from it, and you chose a new one")).ToBeVisible())
	must(t, "its own person", expect.Locator(role(p, hdg, "Olga Müller-García · usr_FORM1")).ToBeVisible())
}
