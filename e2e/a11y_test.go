package e2e

import (
	"strings"
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
	// An unlabelled field, swapped in as htmx would, and an inline style the policy blocks.
	_, err = p.Evaluate(`() => {
		const f = document.createElement("input"); f.id = "nameless";
		document.querySelector("main").append(f);
		document.dispatchEvent(new Event("htmx:afterSettle"));
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

var _ = playwright.String
