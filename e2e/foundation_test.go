package e2e

import "testing"

// First-run setup → sign out → wrong password shows an error → sign in → invite an agent → the
// agent signs in and cannot open Staff.
func TestFoundationJourney(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)

	signOut(t, p)

	signIn(t, c, p, "ada@example.com", "not the password")
	must(t, "wrong password error", expect.Locator(p.GetByText("The email or password is not right.")).ToBeVisible())
	must(t, "typed email kept", expect.Locator(label(p, "Email")).ToHaveValue("ada@example.com"))

	signIn(t, c, p, "ada@example.com", "admin password 123")
	must(t, "signed in", expect.Locator(role(p, hdg, "Inquiries")).ToBeVisible())

	invite(t, p, "Bo Agent", "bo@example.com", "agent", "agent password 123")
	click(t, p, lnk, "Staff")
	must(t, "agent listed", expect.Locator(role(p, cell, "bo@example.com")).ToBeVisible())

	agent := newPage(t)
	signIn(t, c, agent, "bo@example.com", "agent password 123")
	must(t, "agent signed in", expect.Locator(role(agent, hdg, "Inquiries")).ToBeVisible())
	must(t, "no Staff link for agents", expect.Locator(role(agent, lnk, "Staff")).ToHaveCount(0))
	_, err := agent.Goto(c.URL + "/staff")
	must(t, "open /staff", err)
	must(t, "agent refused", expect.Locator(role(agent, hdg, "Not allowed")).ToBeVisible())
}
