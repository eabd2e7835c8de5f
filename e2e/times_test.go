package e2e

import (
	"regexp"
	"testing"
	"time"

	"github.com/playwright-community/playwright-go"
)

// The duplicate guard and the Staff page's open invitations show their times in the viewer's
// zone (Nepal, UTC+5:45, whose minutes differ from UTC's), not as the server's UTC text.
func TestGuardAndInvitationTimesInViewersZone(t *testing.T) {
	c := startConsole(t)
	admin := newPage(t)
	setUpAdmin(t, c, admin)
	createInquiry(t, admin, "usr_TIMES")
	click(t, admin, lnk, "Staff")
	fill(t, admin, "Name", "Ines Invited", "Email", "ines@example.com")
	click(t, admin, btn, "Send invitation")
	must(t, "invitation sent", expect.Locator(notice(admin, "Invitation sent to ines@example.com")).ToBeVisible())

	s := &site{c: c, admin: admin}
	p := s.open(t, modes[0], playwright.BrowserNewContextOptions{Locale: playwright.String("de-DE"), TimezoneId: playwright.String("Asia/Kathmandu")})
	nepal, err := time.LoadLocation("Asia/Kathmandu")
	must(t, "Nepal's zone", err)
	noUTCText := func(where string) {
		t.Helper()
		for _, m := range measure(t, p).Times {
			t.Errorf("%s: %s", where, m)
		}
	}

	_, err = p.Goto(c.URL + "/staff")
	must(t, "open Staff", err)
	row := p.GetByRole("row").Filter(playwright.LocatorFilterOptions{HasText: "ines@example.com"})
	expires := row.Locator("time")
	must(t, "the invitation's expiry is a time", expect.Locator(expires).ToHaveCount(1))
	at, err := expires.GetAttribute("datetime")
	must(t, "its datetime", err)
	utc, err := time.Parse(time.RFC3339, at)
	must(t, "parse "+at, err)
	// 72 hours ahead: shown as a date and a time of day in Nepal.
	must(t, "expiry in Nepal's time", expect.Locator(expires).ToContainText(utc.In(nepal).Format("3:04")))
	noUTCText("Staff")

	// The same person again: the guard says when the open inquiry was created.
	createInquiry(t, p, "usr_TIMES")
	must(t, "guard shown", expect.Locator(role(p, btn, "Use existing inquiry")).ToBeVisible())
	created := p.Locator("main article time")
	must(t, "the guard's creation time is a time", expect.Locator(created).ToHaveCount(1))
	must(t, "shown relative, in the page's language", expect.Locator(created).ToHaveText(regexp.MustCompile(`^(just now|\d+ minutes? ago)$`)))
	noUTCText("the guard")
}
