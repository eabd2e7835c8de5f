package e2e

import (
	"testing"

	"github.com/playwright-community/playwright-go"
)

// The reviewer sees what they decide on: the ID's front and back and the selfie, loaded
// through the console from Persona, with what the document says.
func TestVerificationEvidenceShown(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)
	createInquiry(t, p, "usr_EVID1")
	completeHostedFlow(t, p, hostedLink(t, p), true)
	click(t, p, btn, "Refresh status")
	must(t, "approved", expect.Locator(p.Locator("#inquiry-status")).ToContainText("Approved"))
	click(t, p, btn, "Show verifications")
	for _, name := range []string{"Front of the ID", "Back of the ID", "Selfie"} {
		img := p.GetByRole("img", playwright.PageGetByRoleOptions{Name: name, Exact: playwright.Bool(true)})
		must(t, name+" shown", expect.Locator(img).ToBeVisible())
		must(t, name+" scrolled to", img.ScrollIntoViewIfNeeded())
		must(t, name+" loaded", expect.Locator(img).ToHaveJSProperty("complete", true))
		if w, err := img.Evaluate("i => i.naturalWidth", nil); err != nil || w.(int) == 0 {
			t.Errorf("%s did not load: %v %v", name, w, err)
		}
	}
	doc := p.GetByRole("table", playwright.PageGetByRoleOptions{Name: "The document"})
	for _, row := range [][]string{{"Type", "Driver's license"}, {"Issuing country", "United States"}, {"Number ends in", "4562"}} {
		r := doc.Locator("tr").Filter(playwright.LocatorFilterOptions{Has: role(p, *playwright.AriaRoleRowheader, row[0])})
		must(t, "document "+row[0], expect.Locator(r.GetByRole(cell)).ToHaveText(row[1]))
	}
}
