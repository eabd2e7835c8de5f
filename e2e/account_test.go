package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/playwright-community/playwright-go"
	"github.com/pquerna/otp/totp"
)

// addStaff adds a staff member with a role through the Staff page.
func addStaff(t *testing.T, p playwright.Page, name, email, password, staffRole string) {
	t.Helper()
	invite(t, p, name, email, staffRole, password).Close()
}

// An agent sees no decision buttons on an inquiry; a reviewer approves it, and cannot open
// Staff or Settings.
func TestReviewerDecidesAgentCannot(t *testing.T) {
	c := startConsole(t)
	admin := newPage(t)
	setUpAdmin(t, c, admin)
	addStaff(t, admin, "Bo Agent", "bo@example.com", "agent password 123", "agent")
	addStaff(t, admin, "Rae Reviewer", "rae@example.com", "reviewer password 123", "reviewer")

	agent := newPage(t)
	signIn(t, c, agent, "bo@example.com", "agent password 123")
	createInquiry(t, agent, "usr_REVIEW1")
	must(t, "detail", expect.Locator(role(agent, hdg, "Alexander Sample · usr_REVIEW1")).ToBeVisible())
	for _, name := range []string{"Approve", "Decline", "Expire"} {
		must(t, "agent has no "+name, expect.Locator(role(agent, btn, name)).ToHaveCount(0))
	}

	reviewer := newPage(t)
	signIn(t, c, reviewer, "rae@example.com", "reviewer password 123")
	must(t, "reviewer signed in", expect.Locator(role(reviewer, hdg, "Inquiries")).ToBeVisible())
	must(t, "no Staff link for reviewers", expect.Locator(role(reviewer, lnk, "Staff")).ToHaveCount(0))
	_, err := reviewer.Goto(agent.URL())
	must(t, "open the inquiry", err)
	click(t, reviewer, btn, "Approve")
	click(t, reviewer, btn, "Yes, approve")
	must(t, "approved", expect.Locator(reviewer.Locator("#inquiry-status")).ToContainText("Approved"))
	_, err = reviewer.Goto(c.URL + "/settings")
	must(t, "open /settings", err)
	must(t, "reviewer refused settings", expect.Locator(role(reviewer, hdg, "Not allowed")).ToBeVisible())
}

// Two-step sign-in: set up from "Your account" (QR code, setup key, first code, recovery
// codes), then signing in needs the code after the password; a recovery code works once.
func TestTwoStepJourney(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)
	const password = "lantern quietly mosaic"
	other := newPage(t)
	signIn(t, c, other, "ada@example.com", "admin password 123")
	must(t, "signed in elsewhere", expect.Locator(role(other, hdg, "Inquiries")).ToBeVisible())

	// Promised names, found as Playwright users find them (substring, any case).
	promised := func(r playwright.AriaRole, name string) playwright.Locator {
		return p.GetByRole(r, playwright.PageGetByRoleOptions{Name: name})
	}
	must(t, "one Your account link", expect.Locator(promised(lnk, "Your account")).ToHaveCount(1))
	click(t, p, lnk, "Your account")
	must(t, "account page", expect.Locator(role(p, hdg, "Your account")).ToBeVisible())
	for _, b := range []string{"Set up two-step sign-in", "Sign out other sessions", "Change password"} {
		must(t, "one button "+b, expect.Locator(promised(btn, b)).ToHaveCount(1))
	}
	must(t, "two sessions listed", expect.Locator(p.GetByText("This browser")).ToHaveCount(1))
	click(t, p, btn, "Sign out other sessions")
	must(t, "others signed out", expect.Locator(notice(p, "Signed out 1 other session.")).ToBeVisible())
	_, err := other.Reload()
	must(t, "reload elsewhere", err)
	must(t, "the other browser is signed out", expect.Locator(role(other, btn, "Sign in")).ToBeVisible())

	fill(t, p, "Current password", "admin password 123", "New password", "            ", "Repeat the new password", "            ")
	click(t, p, btn, "Change password")
	must(t, "spaces refused", expect.Locator(p.GetByText("The password cannot be only spaces.")).ToBeVisible())
	fill(t, p, "Current password", "admin password 123", "New password", password, "Repeat the new password", password)
	click(t, p, btn, "Change password")
	must(t, "password changed", expect.Locator(notice(p, "Password changed.")).ToBeVisible())

	click(t, p, btn, "Set up two-step sign-in")
	must(t, "QR code", expect.Locator(p.GetByRole("img", playwright.PageGetByRoleOptions{Name: "QR code for your authenticator app"})).ToBeVisible())
	must(t, "one Setup key", expect.Locator(p.GetByLabel("Setup key")).ToHaveCount(1))
	secret, err := label(p, "Setup key").InputValue()
	must(t, "read the setup key", err)
	fill(t, p, "Code from your app", "000000")
	click(t, p, btn, "Turn on two-step sign-in")
	must(t, "wrong first code", expect.Locator(p.GetByText("That code is not right.")).ToBeVisible())
	fill(t, p, "Code from your app", totpCode(t, secret, time.Now()))
	click(t, p, btn, "Turn on two-step sign-in")
	must(t, "on", expect.Locator(role(p, hdg, "Two-step sign-in is on")).ToBeVisible())
	text, err := label(p, "Recovery codes").InputValue()
	must(t, "read recovery codes", err)
	codes := strings.Fields(text)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes, want 10: %q", len(codes), text)
	}
	click(t, p, btn, "Copy recovery codes")
	must(t, "copied", expect.Locator(p.GetByText("Copied to the clipboard.")).ToBeVisible())
	dl, err := p.ExpectDownload(func() error { return role(p, btn, "Download recovery codes").Click() })
	must(t, "download", err)
	if dl.SuggestedFilename() != "linkdesk-recovery-codes.txt" {
		t.Errorf("download named %q", dl.SuggestedFilename())
	}
	click(t, p, lnk, "I have saved my recovery codes: continue")
	must(t, "codes left", expect.Locator(p.GetByText("10 unused recovery codes left.")).ToBeVisible())
	must(t, "setup key never shown again", expect.Locator(p.GetByText(secret)).ToHaveCount(0))
	signOut(t, p)

	// The password alone opens nothing.
	signIn(t, c, p, "ada@example.com", password)
	must(t, "code asked", expect.Locator(p.GetByLabel("Authentication code")).ToHaveCount(1))
	must(t, "one Verify", expect.Locator(promised(btn, "Verify")).ToHaveCount(1))
	_, err = p.Goto(c.URL + "/inquiries")
	must(t, "open inquiries", err)
	must(t, "still signed out", expect.Locator(role(p, btn, "Sign in")).ToBeVisible())
	signIn(t, c, p, "ada@example.com", password)
	// The app's next code (the one that confirmed the set-up is spent; one step of skew).
	fill(t, p, "Authentication code", totpCode(t, secret, time.Now().Add(30*time.Second)))
	click(t, p, btn, "Verify")
	must(t, "signed in with the code", expect.Locator(role(p, hdg, "Inquiries")).ToBeVisible())
	signOut(t, p)

	signIn(t, c, p, "ada@example.com", password)
	fill(t, p, "Authentication code", codes[0])
	click(t, p, btn, "Verify")
	must(t, "signed in with a recovery code", expect.Locator(role(p, hdg, "Inquiries")).ToBeVisible())
	signOut(t, p)

	signIn(t, c, p, "ada@example.com", password)
	fill(t, p, "Authentication code", codes[0])
	click(t, p, btn, "Verify")
	must(t, "a recovery code works once", expect.Locator(p.GetByText("That code is not right, or was used already.")).ToBeVisible())
	must(t, "code field marked", expect.Locator(label(p, "Authentication code")).ToHaveAttribute("aria-invalid", "true"))
	fill(t, p, "Authentication code", codes[1])
	click(t, p, btn, "Verify")
	must(t, "another recovery code", expect.Locator(role(p, hdg, "Inquiries")).ToBeVisible())
	click(t, p, lnk, "Your account")
	must(t, "codes left", expect.Locator(p.GetByText(regexp.MustCompile(`^.*8 unused recovery codes left\.$`))).ToBeVisible())
}

func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, at)
	must(t, "compute a code", err)
	return code
}
