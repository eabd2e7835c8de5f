package e2e

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/playwright-community/playwright-go"
)

// With the inquiry list open, the person completes the hosted flow in another page: the row
// turns Approved by itself (webhook → live stream), without a reload. Then the filters live in
// the URL (back works), the CSV export downloads, and admins find the Webhooks page.
func TestListLiveUpdate(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	setUpAdmin(t, c, p)

	createInquiry(t, p, "usr_LIST1")
	must(t, "detail page", expect.Locator(p.Locator("#inquiry-status")).ToContainText("Created"))
	link := hostedLink(t, p)

	click(t, p, lnk, "Inquiries")
	must(t, "list heading", expect.Locator(role(p, hdg, "Inquiries")).ToBeVisible())
	row := p.Locator("tbody tr", playwright.PageLocatorOptions{HasText: "usr_LIST1"})
	must(t, "row listed", expect.Locator(row).ToHaveCount(1))
	must(t, "row created", expect.Locator(row).ToContainText("Created"))
	must(t, "reference links to the person's page", expect.Locator(row.GetByRole(lnk, playwright.LocatorGetByRoleOptions{Name: "usr_LIST1"})).
		ToHaveAttribute("href", "/people/usr_LIST1"))
	must(t, "expiry shown", expect.Locator(row).ToContainText(regexp.MustCompile(`expires in \d+ h`)))
	// A marker that a reload would wipe out.
	_, err := p.Evaluate(`() => { window.__noReload = true }`)
	must(t, "set marker", err)

	completeHostedFlow(t, p, link, true)
	must(t, "row turns approved live", expect.Locator(row).ToContainText("Approved"))
	kept, err := p.Evaluate(`() => window.__noReload === true`)
	must(t, "read marker", err)
	if kept != true {
		t.Fatal("the page reloaded")
	}

	// Filters go into the URL and the results swap in place; back restores the unfiltered list.
	_, err = label(p, "Status").SelectOption(playwright.SelectOptionValues{Values: &[]string{"created"}})
	must(t, "choose status", err)
	must(t, "URL has the filter", expect.Page(p).ToHaveURL(regexp.MustCompile(`status=created`)))
	must(t, "approved row filtered out", expect.Locator(row).ToHaveCount(0))
	must(t, "empty state", expect.Locator(role(p, hdg, "No inquiries match these filters")).ToBeVisible())
	// A new inquiry that matches the open filter appears in it, made in another page.
	other, err := p.Context().NewPage()
	must(t, "second page", err)
	_, err = other.Goto(c.URL + "/inquiries")
	must(t, "open console again", err)
	createInquiry(t, other, "usr_LIST2")
	must(t, "second inquiry created", expect.Locator(other.Locator("#inquiry-status")).ToContainText("Created"))
	other.Close()
	must(t, "new row appears live", expect.Locator(p.Locator("tbody tr", playwright.PageLocatorOptions{HasText: "usr_LIST2"})).ToHaveCount(1))
	must(t, "empty state gone", expect.Locator(role(p, hdg, "No inquiries match these filters")).ToHaveCount(0))
	must(t, "search box", label(p, "Search").Fill("usr_list"))
	must(t, "search in URL", expect.Page(p).ToHaveURL(regexp.MustCompile(`q=usr_list`)))
	// Back restores each state from the server; wait for each before the next.
	_, err = p.GoBack()
	must(t, "back", err)
	must(t, "search undone", expect.Locator(label(p, "Search")).ToHaveValue(""))
	must(t, "status still chosen", expect.Locator(label(p, "Status")).ToHaveValues([]any{"created"}))
	_, err = p.GoBack()
	must(t, "back again", err)
	must(t, "status undone", expect.Locator(label(p, "Status").Locator("option:checked")).ToHaveCount(0))
	must(t, "unfiltered again", expect.Locator(row).ToHaveCount(1))

	dl, err := p.ExpectDownload(func() error { return role(p, btn, "Export CSV").Click() })
	must(t, "download CSV", err)
	path, err := dl.Path()
	must(t, "downloaded file", err)
	body, err := os.ReadFile(path)
	must(t, "read CSV", err)
	if !strings.HasPrefix(string(body), "\ufeffinquiry_id,reference_id,status") || !strings.Contains(string(body), "usr_LIST1,approved") {
		t.Fatalf("CSV:\n%s", body)
	}

	click(t, p, lnk, "Webhooks")
	must(t, "webhooks page", expect.Locator(role(p, hdg, "Webhooks")).ToBeVisible())
	must(t, "events arrived", expect.Locator(p.GetByText("inquiry.approved").First()).ToBeVisible())
}
