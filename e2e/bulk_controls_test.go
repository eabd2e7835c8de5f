package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/playwright-community/playwright-go"
)

// The Bulk send page offers a sample file; Start is off, saying why, while no row would create
// or send anything; and Cancel asks before it stops a running job.
func TestBulkStartAndCancelControls(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)
	click(t, p, lnk, "Bulk")
	dl, err := p.ExpectDownload(func() error { return role(p, lnk, "Download a sample CSV file").Click() })
	must(t, "sample download", err)
	if dl.SuggestedFilename() != "linkdesk-bulk-sample.csv" {
		t.Errorf("sample named %q", dl.SuggestedFilename())
	}

	upload := func(name, file string) {
		t.Helper()
		must(t, "choose "+name, label(p, "CSV file").SetInputFiles([]playwright.InputFile{{Name: name, MimeType: "text/csv", Buffer: []byte(file)}}))
		click(t, p, btn, "Check file")
	}
	upload("bad.csv", "reference_id,email\nusr_X1,not-an-email\n")
	start := role(p, btn, "Start")
	must(t, "Start off", expect.Locator(start).ToBeDisabled())
	must(t, "says why", expect.Locator(start).ToHaveAccessibleDescription("Start is off: no row is ready to create or send. Fix the rows above in the file and check it again."))

	var b strings.Builder
	b.WriteString("reference_id,email\n")
	for i := range 30 {
		fmt.Fprintf(&b, "usr_C%02d,c%02d@example.com\n", i, i)
	}
	upload("many.csv", b.String())
	setSandboxKnobs(t, c, `{"latency":"400ms"}`)
	must(t, "Start on", expect.Locator(start).ToBeEnabled())
	click(t, p, btn, "Start")
	must(t, "running", expect.Locator(p.GetByRole("progressbar")).ToBeVisible())
	click(t, p, btn, "Cancel")
	must(t, "asks first", expect.Locator(role(p, hdg, "Cancel the bulk send many.csv?")).ToBeVisible())
	click(t, p, btn, "Keep it running")
	must(t, "still running", expect.Locator(p.GetByRole("progressbar")).ToBeVisible())
	click(t, p, btn, "Cancel")
	click(t, p, btn, "Yes, cancel the bulk send")
	must(t, "cancelled", expect.Locator(p.Locator("#job").GetByText("Cancelled", playwright.LocatorGetByTextOptions{Exact: playwright.Bool(true)})).ToBeVisible())
}
