package e2e

import (
	"testing"

	"github.com/playwright-community/playwright-go"
)

// The whole journey on Persona-Version 2025-12-08, the console's calls and the built-in
// sandbox's webhook both on it (serve --dev gives the sandbox's webhook the console's version):
// answers and webhooks carry PII only in fields, under snake keys, with nothing included. The
// person is created, completes the hosted flow, and the page turns Approved by itself (the
// webhook applied), still naming the person and their email (nothing blanked).
func TestJourneyOnPersona20251208(t *testing.T) {
	c := startConsole(t, "LINKDESK_PERSONA_VERSION=2025-12-08")
	p := newPage(t)
	setUpAdmin(t, c, p)
	click(t, p, lnk, "New inquiry")
	fill(t, p, "Reference ID", "usr_v20251208", "First name", "Alexander", "Last name", "Sample",
		"Birthdate", "1977-08-31", "Email address", "alexander@example.com")
	click(t, p, btn, "Create inquiry")
	must(t, "detail heading names the person", expect.Locator(role(p, hdg, "Alexander Sample · usr_v20251208")).ToBeVisible())
	must(t, "status created", expect.Locator(p.Locator("#inquiry-status")).ToContainText("Created"))

	completeHostedFlow(t, p, hostedLink(t, p), true)
	must(t, "approved by the webhook, without a reload", expect.Locator(p.Locator("#inquiry-status")).ToContainText("Approved"))
	must(t, "still named", expect.Locator(role(p, hdg, "Alexander Sample · usr_v20251208")).ToBeVisible())
	_, err := p.Reload()
	must(t, "reload", err)
	must(t, "email kept", expect.Locator(p.GetByText("alexander@example.com").First()).ToBeVisible())

	// The list shows the person's name and email beside the new status.
	click(t, p, lnk, "Inquiries")
	row := p.GetByRole("row").Filter(playwright.LocatorFilterOptions{HasText: "usr_v20251208"})
	must(t, "list row approved", expect.Locator(row).ToContainText("Approved"))
	must(t, "list row named", expect.Locator(row).ToContainText("Alexander Sample"))
	must(t, "list row email", expect.Locator(row).ToContainText("alexander@example.com"))

	// The Webhooks page reads the webhook's own settings at Persona: on the same version, usable.
	click(t, p, lnk, "Webhooks")
	settings := p.GetByRole("region", playwright.PageGetByRoleOptions{Name: "Settings at Persona"})
	must(t, "webhook version shown", expect.Locator(settings).ToContainText("2025-12-08"))
	must(t, "nothing to warn about", expect.Locator(settings).ToContainText("Linkdesk reads everything this webhook sends."))
}

// A one-time link is one person's: once opened, the same link from another browser is refused
// (Persona's one-time-link guide), while the browser that opened it may reload it.
func TestOneTimeLinkRefusedInAnotherBrowser(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)
	click(t, p, lnk, "New inquiry")
	fill(t, p, "Reference ID", "usr_OTL", "First name", "Pat", "Last name", "Doe", "Email address", "pat@example.com")
	click(t, p, btn, "Create inquiry")
	flow, err := p.Context().NewPage()
	must(t, "new page", err)
	_, err = flow.Goto(hostedLink(t, p))
	must(t, "open hosted link", err)
	continueStep(t, flow) // started: the link to hand out is now a one-time link
	flow.Close()
	must(t, "pending", expect.Locator(p.Locator("#inquiry-status")).ToContainText("Pending"))
	click(t, p, btn, "Resume and email")
	link := hostedLink(t, p)

	first, err := p.Context().NewPage()
	must(t, "first browser", err)
	_, err = first.Goto(link)
	must(t, "open one-time link", err)
	must(t, "opens the flow", expect.Locator(role(first, hdg, "Government ID")).ToBeVisible())
	_, err = first.Reload()
	must(t, "reload", err)
	must(t, "a reload still works", expect.Locator(role(first, hdg, "Government ID")).ToBeVisible())

	other := newPage(t) // another browser: its own cookies
	_, err = other.Goto(link)
	must(t, "open in another browser", err)
	must(t, "refused there", expect.Locator(role(other, hdg, "Link expired")).ToBeVisible())
}
