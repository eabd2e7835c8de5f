package e2e

import (
	"strings"
	"sync"
	"testing"

	"github.com/playwright-community/playwright-go"
)

// The checks every page gets do find things: a page that breaks a WCAG rule and the policy is
// reported, a page elsewhere is not.
func TestChecksFindViolations(t *testing.T) {
	c := startConsole(t)
	bc, err := browser.NewContext()
	must(t, "new context", err)
	defer bc.Close()
	w := installChecks(t, bc)
	p, err := bc.NewPage()
	must(t, "new page", err)
	w.page = p
	_, err = p.Goto(c.URL + "/login")
	must(t, "open sign-in", err)
	// An unlabelled field added after load (found by the check at the end) and an inline style
	// the policy blocks.
	_, err = p.Evaluate(`() => {
		const f = document.createElement("input"); f.id = "nameless";
		document.querySelector("main").append(f);
		const s = document.createElement("style"); s.textContent = "body{}"; document.head.append(s);
	}`)
	must(t, "break the page", err)
	got := strings.Join(w.collect(), "\n")
	for _, want := range []string{"axe label (critical) on /login", "#nameless", "csp on /login"} {
		if !strings.Contains(got, want) {
			t.Errorf("checks found:\n%s\nwant %q", got, want)
		}
	}
}

// The Settings page shows the HTML email as recipients get it (its inline styles apply) with
// no policy violation in the console, on load and while the wording is edited.
func TestSettingsEmailPreviewNoCSPViolations(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	var mu sync.Mutex
	var violations []string
	p.OnConsole(func(m playwright.ConsoleMessage) {
		if strings.Contains(m.Text(), "Content Security Policy") {
			mu.Lock()
			violations = append(violations, m.Text())
			mu.Unlock()
		}
	})
	setUpAdmin(t, c, p)
	click(t, p, lnk, "Settings")
	frame := p.FrameLocator(`iframe[title="Email preview"]`)
	button := frame.GetByRole(lnk, playwright.FrameLocatorGetByRoleOptions{Name: "Verify my identity"})
	must(t, "email shown", expect.Locator(button).ToBeVisible())
	must(t, "its inline styles apply", expect.Locator(button).ToHaveCSS("background-color", "rgb(31, 111, 235)"))

	// Typing updates the preview, still within its own policy.
	must(t, "edit the HTML", label(p, "HTML").Fill(`<p style="color: rgb(18, 52, 86)">Live for {{.FirstName}}</p>`))
	live := frame.GetByText("Live for Pat")
	must(t, "live preview", expect.Locator(live).ToBeVisible())
	must(t, "live styles apply", expect.Locator(live).ToHaveCSS("color", "rgb(18, 52, 86)"))

	// A check that runs after everything above: any violation has been logged by then.
	_, err := p.Reload()
	must(t, "reload", err)
	must(t, "email shown again", expect.Locator(button).ToBeVisible())
	mu.Lock()
	defer mu.Unlock()
	if len(violations) > 0 {
		t.Fatalf("%d policy violations in the console, first: %s", len(violations), violations[0])
	}
}

// Forms put the cursor where the work is: the first field on arrival, the first field to
// fix after a refused submit; and the focus ring is plain to see.
func TestFormFocus(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)
	signOut(t, p)
	_, err := p.Goto(c.URL + "/login")
	must(t, "open sign-in", err)
	must(t, "sign-in focuses Email", expect.Locator(label(p, "Email")).ToBeFocused())
	ringVisible(t, p, "Email field")
	must(t, "tab on", p.Keyboard().Press("Tab"))
	must(t, "tab again", p.Keyboard().Press("Tab"))
	must(t, "on the button", expect.Locator(role(p, btn, "Sign in")).ToBeFocused())
	ringVisible(t, p, "Sign in button")

	fill(t, p, "Email", "ada@example.com", "Password", "admin password 123")
	click(t, p, btn, "Sign in")
	click(t, p, lnk, "New inquiry")
	must(t, "New inquiry focuses its first field", expect.Locator(label(p, "Template")).ToBeFocused())
	fill(t, p, "First name", "Alexander", "Email address", "not-an-email")
	click(t, p, btn, "Create inquiry")
	must(t, "refused", expect.Locator(p.GetByText("Enter the person's reference ID")).ToBeVisible())
	must(t, "first error field focused", expect.Locator(label(p, "Reference ID")).ToBeFocused())
}

// ringVisible fails unless the focused element shows a solid outline at least 2 px wide.
func ringVisible(t *testing.T, p playwright.Page, what string) {
	t.Helper()
	ring, err := p.Evaluate(`() => { const s = getComputedStyle(document.activeElement);
		return s.outlineStyle === "solid" && parseFloat(s.outlineWidth) >= 2 ? "" : s.outlineStyle + " " + s.outlineWidth; }`)
	must(t, "read the focus ring", err)
	if ring != "" {
		t.Errorf("%s: focus ring %v, want a solid outline of 2 px or more", what, ring)
	}
}

// Accessible names are the UI's contract (issues 11, 12 and 13): each promised name resolves
// to exactly one element on its page, so a test or a screen reader user finds the one meant.
func TestUIContractNamesUnique(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)
	one := func(what string, l playwright.Locator) {
		t.Helper()
		must(t, "one "+what, expect.Locator(l).ToHaveCount(1))
	}
	none := func(what string, l playwright.Locator) {
		t.Helper()
		must(t, "no "+what, expect.Locator(l).ToHaveCount(0))
	}
	// A promised name is found as Playwright users find it, without exact: true (a substring,
	// any case); "no element named" is checked exactly.
	promised := func(r playwright.AriaRole, name string) playwright.Locator {
		return p.GetByRole(r, playwright.PageGetByRoleOptions{Name: name})
	}
	named := func(r playwright.AriaRole, name string) playwright.Locator {
		return p.GetByRole(r, playwright.PageGetByRoleOptions{Name: name, Exact: playwright.Bool(true)})
	}

	// The detail page.
	createInquiry(t, p, "usr_NAMES")
	must(t, "detail page", expect.Locator(p.GetByRole(hdg, playwright.PageGetByRoleOptions{Name: "usr_NAMES"})).ToBeVisible())
	one("textbox Hosted link", promised(*playwright.AriaRoleTextbox, "Hosted link"))
	one("label Hosted link", label(p, "Hosted link"))
	for _, r := range []playwright.AriaRole{btn, lnk, *playwright.AriaRoleImg, *playwright.AriaRoleRegion, *playwright.AriaRoleGroup} {
		none(string(r)+" named Hosted link", named(r, "Hosted link"))
	}
	one("img QR code", promised(*playwright.AriaRoleImg, "QR code"))
	for _, b := range []string{"Copy link", "Email link", "Refresh status", "Show verifications", "Approve", "Decline", "Expire"} {
		one("button "+b, promised(btn, b))
	}

	// The list.
	click(t, p, lnk, "Inquiries")
	one("searchbox Search", promised(*playwright.AriaRoleSearchbox, "Search"))
	one("label Search", label(p, "Search"))
	openFilters(t, p)
	one("group Status", promised(*playwright.AriaRoleGroup, "Status"))
	one("link usr_NAMES", promised(lnk, "usr_NAMES"))

	// Bulk send.
	one("nav link Bulk", promised(lnk, "Bulk"))
	click(t, p, lnk, "Bulk")
	one("heading Bulk send", promised(hdg, "Bulk send"))
	one("nav link Bulk", promised(lnk, "Bulk"))
	for _, l := range []string{"CSV file", "Template", "Email the links"} {
		one("field "+l, label(p, l))
	}
	one("button Check file", promised(btn, "Check file"))
}

// Every page of the console, as an admin sees it with one inquiry and one email, gets the
// checks (axe and the policy) that every test's pages get, including those no journey visits.
func TestEveryPageChecked(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)
	createInquiry(t, p, "usr_PAGES")
	must(t, "detail page", expect.Locator(role(p, btn, "Email link")).ToBeVisible())
	detail := p.URL()
	click(t, p, btn, "Email link")
	fill(t, p, "Recipient", "pages@example.com")
	click(t, p, btn, "Send")
	// The send lands (and the mail server has the message /dev/mailbox/1 shows) before the next
	// navigation, which would otherwise race it.
	must(t, "in the outbox", expect.Locator(notice(p, "Email to pages@example.com is in the outbox")).ToBeVisible())
	must(t, "sent", expect.Locator(p.Locator("#email-log").GetByText("Sent", playwright.LocatorGetByTextOptions{Exact: playwright.Bool(true)})).ToBeVisible())
	for _, path := range []string{"/inquiries", "/inquiries/new", "/bulk", "/links/template", "/people/usr_PAGES",
		"/staff", "/settings", "/templates", "/audit", "/outbox", "/webhooks", "/dev/mailbox", "/dev/mailbox/1",
		"/account", "/password/forgot", "/no-such-page"} {
		_, err := p.Goto(c.URL + path)
		must(t, "open "+path, err)
		_, err = p.Evaluate(`() => window.__linkdeskCheck()`)
		must(t, "check "+path, err)
	}
	_, err := p.Goto(detail + "/email")
	must(t, "email form", err)
	_, err = p.Evaluate(`() => window.__linkdeskCheck()`)
	must(t, "check the email form", err)
	_, err = p.Goto(detail + "/personal-data")
	must(t, "personal data confirmation", err)
	_, err = p.Evaluate(`() => window.__linkdeskCheck()`)
	must(t, "check the personal data confirmation", err)
	signOut(t, p)
	_, err = p.Evaluate(`() => window.__linkdeskCheck()`)
	must(t, "check sign-in", err)
}
