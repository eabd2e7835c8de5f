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
	// The filters are folded behind their summary; status is a checkbox per status.
	openFilters(t, p)
	must(t, "choose status", p.GetByRole("group", playwright.PageGetByRoleOptions{Name: "Status"}).
		GetByRole("checkbox", playwright.LocatorGetByRoleOptions{Name: "Created"}).Check())
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
	openFilters(t, p)
	must(t, "status still chosen", expect.Locator(statusBox(p, "Created")).ToBeChecked())
	must(t, "summary names it", expect.Locator(p.Locator("#filter-summary")).ToContainText("Status: Created"))
	_, err = p.GoBack()
	must(t, "back again", err)
	must(t, "status undone", expect.Locator(p.Locator("#filter-panel input[name=status]:checked")).ToHaveCount(0))
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

// openFilters unfolds the filter panel (folded on every page load).
func openFilters(t *testing.T, p playwright.Page) {
	t.Helper()
	panel := p.Locator("#filter-panel")
	if open, _ := panel.GetAttribute("open"); open == "" {
		if n, _ := panel.Evaluate("el => el.open", nil); n != true {
			must(t, "open filters", panel.Locator("summary").Click())
		}
	}
	must(t, "filters open", expect.Locator(panel).ToHaveAttribute("open", ""))
}

func statusBox(p playwright.Page, name string) playwright.Locator {
	return p.GetByRole("group", playwright.PageGetByRoleOptions{Name: "Status"}).
		GetByRole("checkbox", playwright.LocatorGetByRoleOptions{Name: name})
}

// newPerson creates an inquiry for a named person through the New inquiry form.
func newPerson(t *testing.T, p playwright.Page, ref, first, last, email string) {
	t.Helper()
	click(t, p, lnk, "New inquiry")
	fill(t, p, "Reference ID", ref, "First name", first, "Last name", last, "Email address", email)
	click(t, p, btn, "Create inquiry")
	must(t, "created "+ref, expect.Locator(p.Locator("#inquiry-status")).ToContainText("Created"))
}

// TestListFitsFindsAndCounts: search finds people the way staff think of them, the list fits a
// laptop screen with its first row in view, works as cards on a phone, and its counts follow a
// live change. Locators name things without exact matching: the names are unique.
func TestListFitsFindsAndCounts(t *testing.T) {
	c := startConsole(t)
	p := newPage(t)
	must(t, "laptop size", p.SetViewportSize(1280, 900))
	setUpAdmin(t, c, p)
	newPerson(t, p, "usr_ABC123", "María", "García", "maria.garcia@acme.example")
	link := hostedLink(t, p)
	newPerson(t, p, "usr_XYZ789", "John", "Smith", "john@smith.example")
	newPerson(t, p, "usr_QRS456", "Alexander", "Sample", "alex@sample.example")

	click(t, p, lnk, "Inquiries")
	rows := p.Locator("#list-rows tr")
	must(t, "three rows", expect.Locator(rows).ToHaveCount(3))

	// Fits at 1280×900: no horizontal overflow, the first row starts on screen.
	fit, err := p.Evaluate(`() => {
		const wrap = document.querySelector(".table-wrap"), table = wrap.querySelector("table");
		const row = document.querySelector("#list-rows tr");
		return {scroll: table.scrollWidth, client: wrap.clientWidth, top: row.getBoundingClientRect().top, bottom: row.getBoundingClientRect().bottom};
	}`)
	must(t, "measure", err)
	m := fit.(map[string]any)
	t.Logf("at 1280×900: table %v px in %v px, first row %v–%v px", m["scroll"], m["client"], m["top"], m["bottom"])
	if num(m["scroll"]) > num(m["client"]) || num(m["bottom"]) >= 900 {
		t.Errorf("the list does not fit 1280×900: %v", m)
	}

	// Unique accessible names: the Status filter and the Status counts navigation, one Refresh
	// per row named for it.
	openFilters(t, p)
	must(t, "status filter", expect.Locator(p.GetByRole("group", playwright.PageGetByRoleOptions{Name: "Status"})).ToHaveCount(1))
	counts := p.GetByRole("navigation", playwright.PageGetByRoleOptions{Name: "Status counts"})
	must(t, "status counts", expect.Locator(counts).ToHaveCount(1))
	must(t, "per-row refresh", expect.Locator(p.GetByRole(btn, playwright.PageGetByRoleOptions{Name: "Refresh usr_ABC123"})).ToHaveCount(1))
	// Times are in the viewer's zone, relative while recent, with UTC in the title.
	created := rows.First().Locator("time")
	must(t, "relative time", expect.Locator(created).ToHaveText(regexp.MustCompile(`^(just now|\d+ min(ute)?s? ago|now)$`)))
	must(t, "UTC title", expect.Locator(created).ToHaveAttribute("title", regexp.MustCompile(` UTC$`)))

	// Search: a surname, an accent-folded name, an email domain, a reference-ID fragment.
	search := p.GetByRole("searchbox", playwright.PageGetByRoleOptions{Name: "Search"})
	for _, tc := range []struct{ q, want string }{
		{"smith", "usr_XYZ789"}, {"garcia", "usr_ABC123"}, {"acme.example", "usr_ABC123"}, {"QRS4", "usr_QRS456"},
	} {
		must(t, "search "+tc.q, search.Fill(tc.q))
		must(t, tc.q+" in the URL", expect.Page(p).ToHaveURL(regexp.MustCompile(`q=`+regexp.QuoteMeta(tc.q))))
		must(t, tc.q+" finds one row", expect.Locator(rows).ToHaveCount(1))
		must(t, tc.q+" finds "+tc.want, expect.Locator(rows.First()).ToContainText(tc.want))
	}
	// Enter searches too.
	must(t, "type", search.Fill("sample"))
	must(t, "enter", search.Press("Enter"))
	must(t, "enter finds", expect.Locator(rows.First()).ToContainText("usr_QRS456"))
	must(t, "clear search", search.Fill(""))
	must(t, "all rows again", expect.Locator(rows).ToHaveCount(3))

	// A live change updates the counts.
	must(t, "counts before", expect.Locator(counts).ToContainText("Created 3"))
	completeHostedFlow(t, p, link, true)
	must(t, "counts follow", expect.Locator(counts).ToContainText("Approved 1"))
	must(t, "created count follows", expect.Locator(counts).ToContainText("Created 2"))

	// On a phone: cards, no sideways scrolling, filters behind their button.
	must(t, "phone size", p.SetViewportSize(390, 844))
	_, err = p.Reload()
	must(t, "reload on the phone", err)
	must(t, "rows on the phone", expect.Locator(rows).ToHaveCount(3))
	card := rows.Filter(playwright.LocatorFilterOptions{HasText: "usr_ABC123"})
	for _, part := range []string{"usr_ABC123", "maria.garcia@acme.example", "Approved"} {
		must(t, "card shows "+part, expect.Locator(card.GetByText(part).First()).ToBeVisible())
	}
	must(t, "filters behind their button", expect.Locator(p.Locator("#filter-panel summary")).ToBeVisible())
	must(t, "status filter folded", expect.Locator(statusBox(p, "Created")).ToBeHidden())
	phone, err := p.Evaluate(`() => {
		const row = document.querySelector("#list-rows tr");
		return {page: document.documentElement.scrollWidth, display: getComputedStyle(row).display,
			head: getComputedStyle(document.querySelector(".list-results thead")).display,
			filters: document.querySelector("#filter-panel").open};
	}`)
	must(t, "measure phone", err)
	ph := phone.(map[string]any)
	t.Logf("at 390×844: %v", ph)
	if num(ph["page"]) > 390 || ph["display"] != "grid" || ph["head"] != "none" || ph["filters"] != false {
		t.Errorf("the phone layout is not one card per inquiry without sideways scrolling: %v", ph)
	}
}

func num(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case float64:
		return n
	}
	return -1
}
