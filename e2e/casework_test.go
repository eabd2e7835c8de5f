package e2e

import (
	"regexp"
	"testing"

	"github.com/playwright-community/playwright-go"
)

// sub finds an element by role and accessible name with Playwright's default (substring)
// matching: the names this issue promises must each find exactly one element so.
func sub(p playwright.Page, r playwright.AriaRole, name string) playwright.Locator {
	return p.GetByRole(r, playwright.PageGetByRoleOptions{Name: name})
}

func unique(t *testing.T, p playwright.Page, r playwright.AriaRole, names ...string) {
	t.Helper()
	for _, n := range names {
		must(t, "one element named "+n, expect.Locator(sub(p, r, n)).ToHaveCount(1))
	}
}

// openInquiry opens the inquiry of a reference ID from the list (its inquiry id's link; the
// reference ID itself leads to the person's page).
func openInquiry(t *testing.T, p playwright.Page, ref string) {
	t.Helper()
	click(t, p, lnk, "Inquiries")
	row := p.Locator("#list-rows tr", playwright.PageLocatorOptions{HasText: ref})
	must(t, "open "+ref, row.GetByRole(lnk, playwright.LocatorGetByRoleOptions{Name: "inq_"}).Click())
	must(t, "detail of "+ref, expect.Locator(p.Locator("#inquiry-status")).ToBeVisible())
}

// TestCaseWorkJourney: two staff members, one assigns an inquiry to the other, who sees the
// count and the quick filter and adds a note that the first sees appear live; a shared saved
// view shows for a third; five rows selected get "Send fresh link": the summary is right, the
// Mailbox has one email per sendable row, and a double click sends nothing twice.
func TestCaseWorkJourney(t *testing.T) {
	c := startConsole(t)
	ada := newPage(t)
	setUpAdmin(t, c, ada)
	addStaff(t, ada, "Bo Agent", "bo@example.com", "staff password 123", "agent")
	addStaff(t, ada, "Cy Viewer", "cy@example.com", "staff password 123", "viewer")
	for _, ref := range []string{"usr_CW1", "usr_CW2", "usr_CW3", "usr_CW4"} {
		newPerson(t, ada, ref, "Pat", "Doe", ref[4:]+"@example.com")
	}
	newPerson(t, ada, "usr_CW5", "Nomail", "Person", "")

	// Ada gives usr_CW1 to Bo.
	openInquiry(t, ada, "usr_CW1")
	unique(t, ada, btn, "Assign", "Take this inquiry", "Add note")
	unique(t, ada, "combobox", "Assigned to")
	unique(t, ada, "textbox", "Note")
	_, err := sub(ada, "combobox", "Assigned to").SelectOption(playwright.SelectOptionValues{Labels: &[]string{"Bo Agent"}})
	must(t, "choose Bo", err)
	click(t, ada, btn, "Assign")
	must(t, "assigned", expect.Locator(notice(ada, "Assigned to Bo Agent.")).ToBeVisible())
	must(t, "activity says so", expect.Locator(ada.GetByText("Ada Admin assigned the inquiry to Bo Agent")).ToBeVisible())

	// Bo sees the count in the header and under "Assigned to me".
	bo := newPage(t)
	signIn(t, c, bo, "bo@example.com", "staff password 123")
	must(t, "Bo signed in", expect.Locator(role(bo, hdg, "Inquiries")).ToBeVisible())
	must(t, "header count", expect.Locator(sub(bo, lnk, "My queue")).ToHaveText(regexp.MustCompile(`My queue\s*1 case assigned to you`)))
	unique(t, bo, lnk, "Assigned to me")
	must(t, "quick filter count", expect.Locator(sub(bo, lnk, "Assigned to me")).ToHaveText("Assigned to me 1"))
	click(t, bo, lnk, "Assigned to me 1")
	rows := bo.Locator("#list-rows tr")
	must(t, "only Bo's inquiry", expect.Locator(rows).ToHaveCount(1))
	must(t, "it is usr_CW1", expect.Locator(rows).ToContainText("usr_CW1"))
	must(t, "assignee column", expect.Locator(rows).ToContainText("Bo Agent"))

	// Bo adds a note; Ada, still on the page, sees it appear without reloading.
	_, err = ada.Evaluate(`() => { window.__noReload = true }`)
	must(t, "set marker", err)
	must(t, "open from Bo's queue", rows.GetByRole(lnk, playwright.LocatorGetByRoleOptions{Name: "inq_"}).Click())
	must(t, "Bo on the detail page", expect.Locator(bo.Locator("#inquiry-status")).ToBeVisible())
	must(t, "type the note", sub(bo, "textbox", "Note").Fill("Called Pat: documents at https://example.com/docs"))
	click(t, bo, btn, "Add note")
	must(t, "note added", expect.Locator(notice(bo, "Note added.")).ToBeVisible())
	thread := ada.Locator("#notes-thread")
	must(t, "note appears live for Ada", expect.Locator(thread).ToContainText("Called Pat: documents at"))
	must(t, "its author", expect.Locator(thread).ToContainText("Bo Agent"))
	must(t, "its link is clickable", expect.Locator(thread.GetByRole(lnk, playwright.LocatorGetByRoleOptions{Name: "https://example.com/docs"})).ToHaveAttribute("href", "https://example.com/docs"))
	kept, err := ada.Evaluate(`() => window.__noReload === true`)
	must(t, "read marker", err)
	if kept != true {
		t.Fatal("Ada's page reloaded")
	}

	// Bo asks, on Your account, to be emailed when an inquiry is assigned to him.
	click(t, bo, lnk, "Your account")
	unique(t, bo, "checkbox", "Email me when an inquiry is assigned to me")
	unique(t, bo, btn, "Save preferences")
	must(t, "choose the email", sub(bo, "checkbox", "Email me when an inquiry is assigned to me").Check())
	click(t, bo, btn, "Save preferences")
	must(t, "preference saved", expect.Locator(notice(bo, "Preferences saved: you will be emailed when an inquiry is assigned to you.")).ToBeVisible())
	must(t, "choice kept", expect.Locator(sub(bo, "checkbox", "Email me when an inquiry is assigned to me")).ToBeChecked())

	// Bo watches his queue while Ada gives him usr_CW2 from the list: the row and the header's
	// count follow without a reload, and he is emailed.
	must(t, "Bo opens his queue from the header", sub(bo, lnk, "My queue").Click())
	must(t, "Bo's queue", expect.Locator(rows).ToHaveCount(1))
	click(t, ada, lnk, "Inquiries")
	must(t, "select usr_CW2", sub(ada, "checkbox", "Select usr_CW2").Check())
	_, err = ada.GetByLabel("Give selected to").SelectOption(playwright.SelectOptionValues{Labels: &[]string{"Bo Agent"}})
	must(t, "choose Bo for the rows", err)
	unique(t, ada, btn, "Assign")
	click(t, ada, btn, "Assign")
	must(t, "assign summary", expect.Locator(ada.GetByText("1 selected: 1 will be assigned")).ToBeVisible())
	click(t, ada, btn, "Confirm and assign")
	must(t, "assigned from the list", expect.Locator(ada.GetByText("Done for 1 of 1.")).ToBeVisible())
	must(t, "the row joins Bo's queue live", expect.Locator(bo.Locator("#list-rows tr", playwright.PageLocatorOptions{HasText: "usr_CW2"})).ToHaveCount(1))
	must(t, "the header's count follows", expect.Locator(sub(bo, lnk, "My queue")).ToHaveText(regexp.MustCompile(`My queue\s*2 cases assigned to you`)))

	// Ada saves a shared view; Cy (a viewer) sees it with its count.
	click(t, ada, lnk, "Inquiries")
	must(t, "search box", sub(ada, "searchbox", "Search").Fill("usr_CW"))
	must(t, "search applied", expect.Page(ada).ToHaveURL(regexp.MustCompile(`q=usr_CW`)))
	must(t, "open the view form", ada.Locator("summary", playwright.PageLocatorOptions{HasText: "Keep these filters as a view"}).Click())
	unique(t, ada, "textbox", "View name")
	unique(t, ada, btn, "Save view")
	must(t, "name the view", sub(ada, "textbox", "View name").Fill("Case work"))
	must(t, "share it", ada.GetByLabel("Share with the team").Check())
	click(t, ada, btn, "Save view")
	must(t, "view saved", expect.Locator(ada.GetByText("View “Case work” saved and shared with the team.")).ToBeVisible())
	cy := newPage(t)
	signIn(t, c, cy, "cy@example.com", "staff password 123")
	must(t, "Cy sees the shared view", expect.Locator(sub(cy, lnk, "Case work")).ToHaveText("Case work 5"))
	click(t, cy, lnk, "Case work 5")
	must(t, "the view's rows", expect.Locator(cy.Locator("#list-rows tr")).ToHaveCount(5))

	// Select the five rows and send each a fresh link, double-clicking the confirmation.
	must(t, "Ada's rows", expect.Locator(ada.Locator("#list-rows tr")).ToHaveCount(5))
	unique(t, ada, "checkbox", "Select all on this page")
	must(t, "no row actions before a row is selected", expect.Locator(ada.GetByRole(btn, playwright.PageGetByRoleOptions{Name: "Send fresh link"})).ToHaveCount(0))
	must(t, "select all", sub(ada, "checkbox", "Select all on this page").Check())
	unique(t, ada, btn, "Send fresh link", "Expire", "Export selected")
	for _, ref := range []string{"usr_CW1", "usr_CW2", "usr_CW3", "usr_CW4", "usr_CW5"} {
		must(t, ref+" selected", expect.Locator(sub(ada, "checkbox", "Select "+ref)).ToBeChecked())
	}
	click(t, ada, btn, "Send fresh link")
	must(t, "summary", expect.Locator(ada.GetByText("5 selected: 4 will get a fresh link, 1 cannot: 1 without email")).ToBeVisible())
	must(t, "confirm twice", sub(ada, btn, "Confirm and send").Dblclick())
	must(t, "result", expect.Locator(ada.GetByText("4 of 4 fresh links queued in the outbox.")).ToBeVisible())

	// Each email is sent once the mail server has it: the inquiry's send log follows that.
	for _, ref := range []string{"usr_CW1", "usr_CW2", "usr_CW3", "usr_CW4"} {
		openInquiry(t, ada, ref)
		must(t, ref+" sent", expect.Locator(ada.Locator("#email-log").GetByText("Sent", playwright.LocatorGetByTextOptions{Exact: playwright.Bool(true)})).ToHaveCount(1))
	}
	click(t, ada, lnk, "Mailbox")
	assigned := ada.Locator("tbody tr").Filter(playwright.LocatorFilterOptions{HasText: "Assigned to you"})
	must(t, "one assignment email", expect.Locator(assigned).ToHaveCount(1))
	must(t, "to Bo, for usr_CW2", expect.Locator(assigned).ToContainText(regexp.MustCompile(`(?s)bo@example\.com.*Assigned to you: usr_CW2`)))
	mails := ada.Locator("tbody tr").Filter(playwright.LocatorFilterOptions{HasNotText: "You are invited"}).
		Filter(playwright.LocatorFilterOptions{HasNotText: "Assigned to you"})
	must(t, "four link emails", expect.Locator(mails).ToHaveCount(4))
	for _, to := range []string{"CW1@example.com", "CW2@example.com", "CW3@example.com", "CW4@example.com"} {
		must(t, "one email to "+to, expect.Locator(mails.Filter(playwright.LocatorFilterOptions{HasText: regexp.MustCompile("(?i)" + to)})).ToHaveCount(1))
	}
}
