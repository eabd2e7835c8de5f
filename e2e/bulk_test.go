package e2e

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/playwright-community/playwright-go"
)

// Upload a file, check it, start, watch the progress reach Done, then find the inquiries under
// the batch filter and the emails in the Mailbox.
func TestBulkSendJourney(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)

	click(t, p, lnk, "Bulk")
	must(t, "bulk page", expect.Locator(role(p, hdg, "Bulk send")).ToBeVisible())
	file := "\uFEFFReference ID;First name;Last name;Email address\n" +
		"usr_BULK1;Zoë;Ångström;zoe@example.com\n" +
		"usr_BULK2;José;Núñez;jose@example.com\n" +
		"usr_BULK3;Ann;Bad;ann@example\n"
	must(t, "choose file", label(p, "CSV file").SetInputFiles([]playwright.InputFile{{Name: "cohort-2026-12.csv", MimeType: "text/csv", Buffer: []byte(file)}}))
	_, err := label(p, "Template").SelectOption(playwright.SelectOptionValues{Indexes: &[]int{0}})
	must(t, "choose template", err)
	must(t, "email the links", label(p, "Email the links").Check())
	click(t, p, btn, "Check file")
	must(t, "summary", expect.Locator(p.GetByText("2 ready")).ToBeVisible())
	must(t, "problem row shown", expect.Locator(role(p, cell, "usr_BULK3")).ToBeVisible())

	// A slower Persona keeps the job running long enough to watch its progress bar.
	setSandboxKnobs(t, c, `{"latency":"400ms"}`)
	click(t, p, btn, "Start")
	status := p.Locator("#job")
	must(t, "progress bar while running", expect.Locator(p.GetByRole("progressbar")).ToBeVisible())
	must(t, "done", expect.Locator(status.GetByText("Done", playwright.LocatorGetByTextOptions{Exact: playwright.Bool(true)})).ToBeVisible(playwright.LocatorAssertionsToBeVisibleOptions{Timeout: playwright.Float(30000)}))
	rows := p.GetByRole(*playwright.AriaRoleTable, playwright.PageGetByRoleOptions{Name: "Results"}).Locator("tbody tr")
	must(t, "a result per row", expect.Locator(rows).ToHaveCount(3))
	must(t, "download link", expect.Locator(role(p, lnk, "Download results")).ToBeVisible())

	// It survives a reload.
	_, err = p.Reload()
	must(t, "reload", err)
	must(t, "still done", expect.Locator(status.GetByText("Done", playwright.LocatorGetByTextOptions{Exact: playwright.Bool(true)})).ToBeVisible())

	click(t, p, lnk, "Show this batch in the list")
	must(t, "batch filter", expect.Locator(p.GetByText("Batch: cohort-2026-12.csv")).ToBeVisible())
	must(t, "first inquiry listed", expect.Locator(p.GetByText("usr_BULK1")).ToBeVisible())
	must(t, "second inquiry listed", expect.Locator(p.GetByText("usr_BULK2")).ToBeVisible())

	click(t, p, lnk, "Mailbox")
	for _, to := range []string{"zoe@example.com", "jose@example.com"} {
		must(t, "email to "+to, expect.Locator(p.GetByText(to).First()).ToBeVisible())
	}
	if n, _ := p.GetByText("ann@example").Count(); n != 0 {
		t.Errorf("the invalid row was emailed")
	}
}

// Headers the console does not know: the page asks which column is which, the check with the
// mapping counts right, its problem rows download, and Start creates and emails with it.
func TestBulkHeaderMapping(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)

	click(t, p, lnk, "Bulk")
	file := "Reference ID;Vorname;Courriel\n" +
		"usr_MAP1;Zoë;zoe.map@example.com\n" +
		"usr_MAP2;José;jose.map@example.com\n" +
		"usr_MAP3;Ann;not-an-email\n"
	must(t, "choose file", label(p, "CSV file").SetInputFiles([]playwright.InputFile{{Name: "kunden.csv", MimeType: "text/csv", Buffer: []byte(file)}}))
	_, err := label(p, "Template").SelectOption(playwright.SelectOptionValues{Indexes: &[]int{0}})
	must(t, "choose template", err)
	must(t, "email the links", label(p, "Email the links").Check())
	click(t, p, btn, "Check file")
	must(t, "unmapped summary", expect.Locator(p.GetByText("3 ready")).ToBeVisible())
	_, err = label(p, "Column “Vorname”").SelectOption(playwright.SelectOptionValues{Labels: &[]string{"First name"}})
	must(t, "map Vorname", err)
	_, err = label(p, "Column “Courriel”").SelectOption(playwright.SelectOptionValues{Labels: &[]string{"Email"}})
	must(t, "map Courriel", err)
	click(t, p, btn, "Check file")
	must(t, "mapped summary", expect.Locator(p.GetByText("2 ready, 1 invalid")).ToBeVisible())
	must(t, "mapping kept", expect.Locator(label(p, "Column “Courriel”")).ToHaveValue("email-address"))

	dl, err := p.ExpectDownload(func() error { return role(p, lnk, "Download problem rows").Click() })
	must(t, "download problem rows", err)
	path, err := dl.Path()
	must(t, "downloaded file", err)
	body, err := os.ReadFile(path)
	must(t, "read CSV", err)
	if !strings.HasPrefix(string(body), "\ufeffline,reference_id,check,reason\n4,usr_MAP3,invalid,Email: ") || dl.SuggestedFilename() != "kunden-problems.csv" {
		t.Fatalf("problem rows %q:\n%s", dl.SuggestedFilename(), body)
	}

	click(t, p, btn, "Start")
	must(t, "done", expect.Locator(p.Locator("#job").GetByText("Done", playwright.LocatorGetByTextOptions{Exact: playwright.Bool(true)})).ToBeVisible(playwright.LocatorAssertionsToBeVisibleOptions{Timeout: playwright.Float(30000)}))
	results := p.GetByRole(*playwright.AriaRoleTable, playwright.PageGetByRoleOptions{Name: "Results"})
	for _, to := range []string{"zoe.map@example.com", "jose.map@example.com"} {
		must(t, "emailed "+to, expect.Locator(results.GetByText("Email queued to "+to+" (the inquiry's own address).", playwright.LocatorGetByTextOptions{Exact: playwright.Bool(false)})).ToBeVisible())
	}
}

var sandboxRe = regexp.MustCompile(`sandbox=(http://\S+)`)

// setSandboxKnobs sets the dev sandbox's fault-injection knobs through its admin API.
func setSandboxKnobs(t *testing.T, c *console, knobs string) {
	t.Helper()
	m := sandboxRe.FindStringSubmatch(c.out.String())
	if m == nil {
		t.Fatal("the console did not log its sandbox's address")
	}
	res, err := http.Post(m[1]+"/_sandbox/knobs", "application/json", strings.NewReader(knobs))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("sandbox knobs: %s", res.Status)
	}
}
