package e2e

import (
	"testing"

	"github.com/playwright-community/playwright-go"
)

// invite sends an invitation from the Staff page of admin's page, opens it from the dev Mailbox
// in a fresh browser, chooses the password and returns that browser's page, signed in.
func invite(t *testing.T, admin playwright.Page, name, email, roleValue, password string) playwright.Page {
	t.Helper()
	click(t, admin, lnk, "Staff")
	fill(t, admin, "Name", name, "Email", email)
	_, err := label(admin, "Role").SelectOption(playwright.SelectOptionValues{Values: &[]string{roleValue}})
	must(t, "choose role", err)
	// Promised names resolve to one element each, as Playwright finds them by default.
	must(t, "one Send invitation", expect.Locator(admin.GetByRole(btn, playwright.PageGetByRoleOptions{Name: "Send invitation"})).ToHaveCount(1))
	click(t, admin, btn, "Send invitation")
	must(t, "invitation sent", expect.Locator(notice(admin, "Invitation sent to "+email)).ToBeVisible())
	must(t, "no password typed by the admin", expect.Locator(label(admin, "Password")).ToHaveCount(0))

	link := emailedLink(t, admin, email, "You are invited to Linkdesk", "/invite?token=")
	p := newPage(t)
	_, err = p.Goto(link)
	must(t, "open the invitation", err)
	must(t, "invitation page", expect.Locator(role(p, hdg, "Join Linkdesk")).ToBeVisible())
	fill(t, p, "Password", password)
	click(t, p, btn, "Create my account")
	must(t, "signed in after accepting", expect.Locator(role(p, hdg, "Inquiries")).ToBeVisible())
	return p
}

// emailedLink opens the newest email to recipient with subject in the dev Mailbox and returns
// its link whose address contains part.
func emailedLink(t *testing.T, p playwright.Page, recipient, subject, part string) string {
	t.Helper()
	click(t, p, lnk, "Mailbox")
	row := p.GetByRole("row").Filter(playwright.LocatorFilterOptions{HasText: recipient})
	first := row.GetByRole(lnk, playwright.LocatorGetByRoleOptions{Name: subject, Exact: playwright.Bool(true)}).First()
	// The Mailbox shows what the catcher holds when it loads, and the outbox worker delivers
	// within its poll: load it again until the email is there.
	for try := 0; try < 15; try++ {
		if expect.Locator(first).ToBeVisible(playwright.LocatorAssertionsToBeVisibleOptions{Timeout: playwright.Float(1000)}) == nil {
			break
		}
		_, err := p.Reload()
		must(t, "reload the Mailbox", err)
	}
	must(t, "open "+subject, first.Click())
	must(t, "email opened", expect.Locator(role(p, hdg, subject)).ToBeVisible())
	a := p.GetByRole(lnk, playwright.PageGetByRoleOptions{Name: part}).First()
	href, err := a.GetAttribute("href")
	must(t, "link in the email", err)
	return href
}

// An admin invites an agent, who chooses their password from the emailed link; later the agent
// forgets it, gets a reset link in the Mailbox, sets a new one and is signed in; the old one no
// longer works.
func TestInvitationAndForgotPasswordJourney(t *testing.T) {
	c := startConsole(t)
	admin := newPage(t)
	setUpAdmin(t, c, admin)
	invite(t, admin, "Bo Agent", "bo@example.com", "agent", "agent password 123")

	p := newPage(t)
	_, err := p.Goto(c.URL + "/login")
	must(t, "open sign-in", err)
	must(t, "one Forgot password?", expect.Locator(p.GetByRole(lnk, playwright.PageGetByRoleOptions{Name: "Forgot password?"})).ToHaveCount(1))
	click(t, p, lnk, "Forgot password?")
	fill(t, p, "Email", "bo@example.com")
	click(t, p, btn, "Send reset link")
	must(t, "same answer for any email", expect.Locator(notice(p, "If a Linkdesk account signs in with bo@example.com")).ToBeVisible())

	link := emailedLink(t, admin, "bo@example.com", "Reset your Linkdesk password", "/password/reset?token=")
	_, err = p.Goto(link)
	must(t, "open the reset link", err)
	fill(t, p, "New password", "bo's new password 456")
	click(t, p, btn, "Set new password")
	must(t, "signed in", expect.Locator(role(p, hdg, "Inquiries")).ToBeVisible())
	must(t, "told", expect.Locator(notice(p, "Your password is changed")).ToBeVisible())

	// The link works once.
	again := newPage(t)
	_, err = again.Goto(link)
	must(t, "open the used link", err)
	must(t, "used link refused", expect.Locator(role(again, hdg, "Reset link not valid")).ToBeVisible())
	signIn(t, c, again, "bo@example.com", "agent password 123")
	must(t, "old password refused", expect.Locator(again.GetByText("The email or password is not right.")).ToBeVisible())
}
