package e2e

import (
	"regexp"
	"strings"
	"testing"

	"github.com/playwright-community/playwright-go"
)

// linkSubject is the default subject when no company name is set.
const linkSubject = "Please verify your identity"

// The person gets the link by email: staff email it from the detail page (preview, mail-app
// link, copy), the email arrives in the dev Mailbox, the person follows the link from it and
// completes the hosted flow, and the console shows the inquiry approved.
func TestEmailLinkJourney(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)

	click(t, p, lnk, "New inquiry")
	fill(t, p, "Reference ID", "usr_MAIL01", "First name", "Pat", "Last name", "Doe", "Birthdate", "1990-01-02",
		"Email address", "pat@example.com")
	click(t, p, btn, "Create inquiry")
	link := hostedLink(t, p)
	detailURL := p.URL()

	click(t, p, btn, "Email link")
	recipient := label(p, "Recipient")
	must(t, "recipient prefilled", expect.Locator(recipient).ToHaveValue("pat@example.com"))
	preview := p.Locator("#email-text")
	must(t, "preview greets", expect.Locator(preview).ToContainText("Hi Pat,"))
	must(t, "preview has the link", expect.Locator(preview).ToContainText(link))
	href, err := role(p, btn, "Open in mail app").GetAttribute("href")
	must(t, "mail-app link", err)
	if !strings.HasPrefix(href, "mailto:pat@example.com?subject=") || !strings.Contains(href, "&body=Hi%20Pat%2C") {
		t.Fatalf("Open in mail app points at %q", href)
	}
	click(t, p, btn, "Copy message")
	must(t, "copied", expect.Locator(p.GetByText("Copied to the clipboard.")).ToBeVisible())
	copied, err := p.Evaluate("navigator.clipboard.readText()")
	must(t, "read clipboard", err)
	if s, _ := copied.(string); !strings.Contains(s, link) {
		t.Fatalf("copied message %q lacks the link", s)
	}

	// The mail-app link follows the address as it is typed.
	must(t, "type another address", recipient.Fill("bo@example.com"))
	must(t, "mail-app link updated", expect.Locator(role(p, btn, "Open in mail app")).ToHaveAttribute("href", regexp.MustCompile(`^mailto:bo@example\.com\?subject=`)))

	// A mistyped address is caught before anything is sent, keeping what was typed.
	must(t, "type a wrong address", recipient.Fill("pat@example"))
	click(t, p, btn, "Send")
	must(t, "inline error", expect.Locator(p.GetByText("Enter one email address, like name@example.com.")).ToBeVisible())
	must(t, "typed value kept", expect.Locator(label(p, "Recipient")).ToHaveValue("pat@example"))

	must(t, "type the address", label(p, "Recipient").Fill("pat@example.com"))
	click(t, p, btn, "Send")
	must(t, "in the outbox", expect.Locator(notice(p, "Email to pat@example.com is in the outbox")).ToBeVisible())
	// The send log refreshes itself until the mail server has it.
	must(t, "sent", expect.Locator(p.Locator("#email-log").GetByText("Sent", playwright.LocatorGetByTextOptions{Exact: playwright.Bool(true)})).ToBeVisible())

	click(t, p, lnk, "Mailbox")
	click(t, p, lnk, linkSubject)
	must(t, "email opened", expect.Locator(role(p, hdg, linkSubject)).ToBeVisible())
	// Follow the link from the email, as the person would.
	click(t, p, lnk, link)
	for step := 0; step < 6; step++ {
		if n, _ := role(p, hdg, "Verification complete").Count(); n > 0 {
			break
		}
		must(t, "pass switch", label(p, "Pass verifications").SetChecked(true))
		continueStep(t, p)
	}
	must(t, "flow complete", expect.Locator(role(p, hdg, "Verification complete")).ToBeVisible())

	_, err = p.Goto(detailURL)
	must(t, "back to the console", err)
	click(t, p, btn, "Refresh status")
	must(t, "approved", expect.Locator(p.Locator("#inquiry-status")).ToContainText("Approved"))
}

// A permanent refusal shows as Failed with the server's reply; after the server is fixed, Retry
// delivers it.
func TestEmailRefusedThenRetried(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)

	click(t, p, lnk, "Mailbox")
	_, err := label(p, "The mail server answers").SelectOption(playwright.SelectOptionValues{Values: &[]string{"permanent"}})
	must(t, "make the catcher refuse", err)
	click(t, p, btn, "Apply")

	click(t, p, lnk, "New inquiry")
	fill(t, p, "Reference ID", "usr_MAIL02", "First name", "Bo", "Last name", "Doe", "Email address", "bo@example.com")
	click(t, p, btn, "Create inquiry")
	click(t, p, btn, "Email link")
	click(t, p, btn, "Send")
	log := p.Locator("#email-log")
	must(t, "failed", expect.Locator(log.GetByText("Failed", playwright.LocatorGetByTextOptions{Exact: playwright.Bool(true)})).ToBeVisible())
	must(t, "server reply shown", expect.Locator(log).ToContainText("550 5.1.1 Mailbox unavailable"))

	click(t, p, lnk, "Mailbox")
	_, err = label(p, "The mail server answers").SelectOption(playwright.SelectOptionValues{Values: &[]string{"none"}})
	must(t, "make the catcher accept", err)
	click(t, p, btn, "Apply")
	click(t, p, lnk, "Outbox")
	click(t, p, btn, "Retry")
	must(t, "retried", expect.Locator(notice(p, "will be tried again now")).ToBeVisible())
	must(t, "open the inquiry", p.GetByRole(lnk, playwright.PageGetByRoleOptions{Name: regexp.MustCompile(`^inq_`)}).Click())
	must(t, "delivered", expect.Locator(p.Locator("#email-log").GetByText("Sent", playwright.LocatorGetByTextOptions{Exact: playwright.Bool(true)})).ToBeVisible())
	click(t, p, lnk, "Mailbox")
	must(t, "in the mailbox", expect.Locator(role(p, lnk, linkSubject)).ToBeVisible())
}
