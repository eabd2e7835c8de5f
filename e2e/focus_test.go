package e2e

import "testing"

// After creating, focus is on the new link's Copy link button (it was on the body, 19 Tabs
// away): Enter copies the link at once.
func TestFocusAfterCreate(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)
	createInquiry(t, p, "usr_FOCUS1")
	must(t, "Copy link focused", expect.Locator(role(p, btn, "Copy link")).ToBeFocused())
	must(t, "press Enter", p.Keyboard().Press("Enter"))
	must(t, "copied", expect.Locator(p.Locator("#copy-status")).ToContainText("Copied"))
}
