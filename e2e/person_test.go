package e2e

import (
	"regexp"
	"testing"

	"github.com/playwright-community/playwright-go"
)

// Two inquiries for one person: the reference ID in the list leads to the person's page, whose
// heading names them and whose table has a row per inquiry; "New inquiry for this person"
// opens the form prefilled, and creating from it meets the duplicate guard.
func TestPersonPage(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)

	createInquiry(t, p, "usr_PERSON1")
	must(t, "first created", expect.Locator(p.Locator("#inquiry-status")).ToContainText("Created"))
	completeHostedFlow(t, p, hostedLink(t, p), true)
	must(t, "first approved", expect.Locator(p.Locator("#inquiry-status")).ToContainText("Approved"))
	createInquiry(t, p, "usr_PERSON1")
	// Verified before: the guard asks first.
	click(t, p, btn, "Create anyway")
	must(t, "second created", expect.Locator(p.Locator("#inquiry-status")).ToContainText("Created"))

	click(t, p, lnk, "Inquiries")
	must(t, "list heading", expect.Locator(role(p, hdg, "Inquiries")).ToBeVisible())
	must(t, "two rows listed", expect.Locator(p.Locator("tbody tr", playwright.PageLocatorOptions{HasText: "usr_PERSON1"})).ToHaveCount(2))
	must(t, "click the reference ID", p.GetByRole(lnk, playwright.PageGetByRoleOptions{Name: "usr_PERSON1", Exact: playwright.Bool(true)}).First().Click())

	h1 := p.GetByRole(hdg, playwright.PageGetByRoleOptions{Level: playwright.Int(1)})
	must(t, "heading names the reference ID", expect.Locator(h1).ToContainText("usr_PERSON1"))
	must(t, "heading names the person", expect.Locator(h1).ToContainText("Alexander"))
	must(t, "URL", expect.Page(p).ToHaveURL(regexp.MustCompile(`/people/usr_PERSON1$`)))
	table := p.GetByRole("table", playwright.PageGetByRoleOptions{Name: "Inquiries for usr_PERSON1"})
	must(t, "one row per inquiry", expect.Locator(table.Locator("tbody tr")).ToHaveCount(2))
	must(t, "statuses shown", expect.Locator(table).ToContainText("Approved"))

	click(t, p, btn, "New inquiry for this person")
	must(t, "form prefilled", expect.Locator(label(p, "Reference ID")).ToHaveValue("usr_PERSON1"))
	must(t, "name prefilled", expect.Locator(label(p, "Last name")).ToHaveValue("Sample"))
	click(t, p, btn, "Create inquiry")
	must(t, "duplicate guard", expect.Locator(role(p, btn, "Use existing inquiry")).ToBeVisible())
}
