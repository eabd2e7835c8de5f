package e2e

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/persona/sandbox"
	"github.com/playwright-community/playwright-go"
)

// A walk of every page the console has, as an admin sees it with data on each (a bulk job of
// twelve rows, an approved inquiry with an email and webhook events), in every way staff open
// it: light and dark OS theme, a laptop (1280×800) and a phone (390×844).

// mode is one way of opening the console.
type mode struct {
	name          string
	dark          bool
	width, height int
}

var modes = []mode{
	{"light 1280", false, 1280, 800},
	{"dark 1280", true, 1280, 800},
	{"light 390", false, 390, 844},
	{"dark 390", true, 390, 844},
}

// site is a console filled with one of everything, and the pages to walk.
type site struct {
	c       *console
	admin   playwright.Page
	pages   []string // paths
	bulkCSV []byte
}

// seedSite fills a console: an approved inquiry emailed once (outbox, mailbox, webhooks, audit,
// person page) and a bulk job of twelve rows (its results page, a list longer than a screen).
func seedSite(t *testing.T) *site {
	t.Helper()
	s := &site{c: startConsole(t)}
	p := newPage(t)
	s.admin = p
	setUpAdmin(t, s.c, p)
	createInquiry(t, p, "usr_PAGES")
	must(t, "detail page", expect.Locator(role(p, btn, "Email link")).ToBeVisible())
	detail, _, _ := strings.Cut(strings.TrimPrefix(p.URL(), s.c.URL), "#")
	link := hostedLink(t, p)
	click(t, p, btn, "Email link")
	fill(t, p, "Recipient", "pages.person.with.a.long.address@example-company.example")
	click(t, p, btn, "Send")
	must(t, "sent", expect.Locator(p.Locator("#email-log").GetByText("Sent", playwright.LocatorGetByTextOptions{Exact: playwright.Bool(true)})).ToBeVisible())
	completeHostedFlow(t, p, link, true)
	// One waiting for a reviewer: the list's Needs review count, the decision buttons.
	click(t, p, lnk, "New inquiry")
	_, err := label(p, "Template").SelectOption(playwright.SelectOptionValues{Values: &[]string{sandbox.TemplateKYCManualReview}})
	must(t, "choose the review template", err)
	fill(t, p, "Reference ID", "usr_REVIEW", "First name", "Chloé", "Last name", "Dubois")
	click(t, p, btn, "Create inquiry")
	review, _, _ := strings.Cut(strings.TrimPrefix(p.URL(), s.c.URL), "#")
	completeHostedFlow(t, p, hostedLink(t, p), true)
	must(t, "needs review", expect.Locator(p.Locator("#inquiry-status")).ToContainText("Needs review"))

	var csv strings.Builder
	csv.WriteString("Reference ID;First name;Last name;Email address\n")
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&csv, "usr_WALK%02d;Maximiliane;Oberhollenzer-Weißenbach;m.oberhollenzer%02d@weissenbach-law.example\n", i, i)
	}
	csv.WriteString("usr_WALKBAD;Ann;Bad;ann@example\n")
	s.bulkCSV = []byte(csv.String())
	s.bulkCheck(t, p, "12 ready")
	click(t, p, btn, "Start")
	must(t, "done", expect.Locator(p.Locator("#job").GetByText("Done", playwright.LocatorGetByTextOptions{Exact: playwright.Bool(true)})).ToBeVisible(playwright.LocatorAssertionsToBeVisibleOptions{Timeout: playwright.Float(60000)}))
	job := strings.TrimPrefix(p.URL(), s.c.URL)
	must(t, "job page", expect.Page(p).ToHaveURL(regexp.MustCompile(`/bulk/\d+$`)))
	s.pages = []string{"/inquiries", "/inquiries/new", "/bulk", job, detail, review, detail + "/email", "/links/template",
		"/people/usr_PAGES", "/staff", "/settings", "/templates", "/audit", "/outbox", "/webhooks", "/dev/mailbox",
		"/dev/mailbox/1", "/no-such-page"}
	return s
}

// bulkCheck uploads the bulk file and checks it (the check's answer has no address of its own).
func (s *site) bulkCheck(t *testing.T, p playwright.Page, summary string) {
	t.Helper()
	click(t, p, lnk, "Bulk")
	must(t, "choose file", label(p, "CSV file").SetInputFiles([]playwright.InputFile{{Name: "bulk-walk.csv", MimeType: "text/csv", Buffer: s.bulkCSV}}))
	_, err := label(p, "Template").SelectOption(playwright.SelectOptionValues{Indexes: &[]int{0}})
	must(t, "choose template", err)
	must(t, "email the links", label(p, "Email the links").Check())
	click(t, p, btn, "Check file")
	must(t, "checked", expect.Locator(p.GetByText(summary)).ToBeVisible())
}

// open returns a page signed in as the site's admin in a context of mode m.
func (s *site) open(t *testing.T, m mode, extra playwright.BrowserNewContextOptions) playwright.Page {
	t.Helper()
	state, err := s.admin.Context().StorageState()
	must(t, "read the session", err)
	opts := extra
	opts.StorageState = state.ToOptionalStorageState()
	opts.Viewport = &playwright.Size{Width: m.width, Height: m.height}
	opts.ColorScheme = playwright.ColorSchemeLight
	if m.dark {
		opts.ColorScheme = playwright.ColorSchemeDark
	}
	bc, err := browser.NewContext(opts)
	must(t, "new context", err)
	t.Cleanup(func() { bc.Close() })
	bc.SetDefaultTimeout(15000)
	// The viewer's clock runs 10 minutes ahead, so the times just written show relative ("10
	// minutes ago"), the words a browser's own language would change.
	must(t, "set the clock", bc.Clock().SetFixedTime(time.Now().Add(10*time.Minute)))
	// axe in the console's pages only, run by the walk itself.
	script := "if (location.origin === " + fmt.Sprintf("%q", s.c.URL) + ") {\n" + axeSource + "\n}"
	must(t, "install axe", bc.AddInitScript(playwright.Script{Content: &script}))
	p, err := bc.NewPage()
	must(t, "new page", err)
	return p
}

// pageReport is what the walk measured on one page in one mode.
type pageReport struct {
	Axe      []string // rule ids with the number of nodes
	AxeNodes int
	Scroll   int      // the document's scrollWidth
	Viewport int      // its innerWidth
	Nameless []string // controls without an accessible name
	Clipped  []string // scrolling regions a keyboard cannot reach, or tables cut off at 1280
	Times    []string // times not in the viewer's zone and language
}

const measureScript = `async () => {
  const out = {Axe: [], AxeNodes: 0, Nameless: [], Clipped: []};
  const r = await axe.run(document, {iframes: false, resultTypes: ["violations"]});
  for (const v of r.violations) {
    out.Axe.push(v.id + "×" + v.nodes.length + " (" + v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ") + ")");
    out.AxeNodes += v.nodes.length;
  }
  out.Scroll = document.documentElement.scrollWidth;
  // Times: shown in the viewer's zone and the page's language, UTC on hover.
  const text = document.querySelector("main").innerText;
  out.Times = [];
  for (const m of text.matchAll(/\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?( UTC|Z)?/g)) out.Times.push("a time as the server wrote it: " + m[0]);
  if (location.pathname === "/inquiries" && !/\b\d+ minutes ago\b/.test(text)) out.Times.push("no relative time in English on the list");
  for (const m of text.matchAll(/\bvor \d+ \w+|\bin \d+ (Minuten|Stunden)|\bgerade eben/g)) out.Times.push("a time in the browser's language: " + m[0]);
  for (const t of document.querySelectorAll("main time")) if (!/ UTC$/.test(t.title)) out.Times.push("a time without UTC on hover: " + t.outerHTML);
  out.Viewport = window.innerWidth;
  // The list fits without a scrollbar of its own: columns on a laptop, cards on a phone.
  const list = document.querySelector(".list-results .table-wrap");
  if (list && list.scrollWidth > list.clientWidth + 1) out.Clipped.push("the list scrolls sideways: " + list.scrollWidth + ">" + list.clientWidth);
  // On a phone, the links of lists and filters are targets of 24×24 px at least (WCAG 2.5.8).
  if (window.innerWidth < 641)
    for (const a of document.querySelectorAll("main table a, main nav a, #list-counts a")) {
      const r = a.getBoundingClientRect();
      if (r.width > 0 && (r.width < 24 || r.height < 24)) out.Clipped.push("too small to tap: " + a.textContent.trim() + " " + Math.round(r.width) + "×" + Math.round(r.height));
    }
  const desc = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
  for (const el of document.querySelectorAll("*")) {
    const s = getComputedStyle(el);
    if (!/(auto|scroll)/.test(s.overflowX) || el.scrollWidth <= el.clientWidth + 1 || el === document.documentElement || el === document.body) continue;
    if (el.closest("dialog:not([open])") || el.getClientRects().length === 0) continue;
    if (el.tabIndex < 0 || !(el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")))
      out.Clipped.push("scrolls without tabindex=0 and a name: " + desc(el) + " " + el.scrollWidth + ">" + el.clientWidth);
    else if (window.innerWidth >= 1280 && el.querySelector("table"))
      out.Clipped.push("table cut off: " + desc(el) + " " + el.scrollWidth + ">" + el.clientWidth);
  }
  return out;
}`

// namelessRe finds a control in an ARIA snapshot that has no name: `- button` or `- link:`.
var namelessRe = regexp.MustCompile(`(?m)^\s*- (button|link|textbox|searchbox|combobox|checkbox|radio|spinbutton|listbox|slider|switch)(\s*\[[^\]]*\])*\s*(:.*)?$`)

func measure(t *testing.T, p playwright.Page) pageReport {
	t.Helper()
	v, err := p.Evaluate(measureScript)
	must(t, "measure "+p.URL(), err)
	m := v.(map[string]any)
	r := pageReport{Scroll: int(num(m["Scroll"])), Viewport: int(num(m["Viewport"])), AxeNodes: int(num(m["AxeNodes"]))}
	for _, a := range m["Axe"].([]any) {
		r.Axe = append(r.Axe, a.(string))
	}
	for _, a := range m["Clipped"].([]any) {
		r.Clipped = append(r.Clipped, a.(string))
	}
	for _, a := range m["Times"].([]any) {
		r.Times = append(r.Times, a.(string))
	}
	r.Nameless = nameless(t, p)
	return r
}

// nameless lists the page's controls that have no accessible name, as Playwright computes it.
func nameless(t *testing.T, p playwright.Page) (found []string) {
	t.Helper()
	snap, err := p.Locator("body").AriaSnapshot()
	must(t, "aria snapshot "+p.URL(), err)
	for _, l := range namelessRe.FindAllString(snap, -1) {
		found = append(found, strings.TrimSpace(l))
	}
	return found
}

// walk opens every page (and the bulk check's answer) in p and measures each.
func (s *site) walk(t *testing.T, p playwright.Page, each func(path string)) {
	t.Helper()
	for _, path := range s.pages {
		_, err := p.Goto(s.c.URL + path)
		must(t, "open "+path, err)
		if path == "/inquiries" { // the counts load after the rows
			must(t, "counts loaded", expect.Locator(p.Locator("#list-counts a").First()).ToBeVisible())
		}
		each(path)
	}
	s.bulkCheck(t, p, "12 already open")
	each("/bulk/check")
}

// Every page in light and dark, on a laptop and a phone: no axe finding, no sideways scrolling
// on the phone, no table cut off on the laptop, every scrolling region reachable by keyboard and
// named, every control named, every time in the viewer's zone and the page's language, and the
// list shows at least ten rows on a laptop's first screen.
func TestEveryPageEveryMode(t *testing.T) {
	s := seedSite(t)
	type key struct{ mode, path string }
	found := map[key]pageReport{}
	var order []string
	for _, m := range modes {
		// A viewer in Nepal (UTC+5:45) whose browser speaks German, on an English console.
		p := s.open(t, m, playwright.BrowserNewContextOptions{Locale: playwright.String("de-DE"), TimezoneId: playwright.String("Asia/Kathmandu")})
		s.walk(t, p, func(path string) {
			r := measure(t, p)
			if m.name == modes[0].name {
				order = append(order, path)
			}
			found[key{m.name, path}] = r
			if len(r.Axe) > 0 {
				t.Errorf("%s %s: axe: %s", m.name, path, strings.Join(r.Axe, "; "))
			}
			if r.Scroll > r.Viewport {
				t.Errorf("%s %s: the page is %d px wide in a %d px window", m.name, path, r.Scroll, r.Viewport)
			}
			for _, c := range append(r.Clipped, r.Times...) {
				t.Errorf("%s %s: %s", m.name, path, c)
			}
			if len(r.Nameless) > 0 && !m.dark {
				t.Errorf("%s %s: controls without a name: %s", m.name, path, strings.Join(r.Nameless, "; "))
			}
		})
		if m.width == 1280 && !m.dark {
			_, err := p.Goto(s.c.URL + "/inquiries")
			must(t, "open the list", err)
			must(t, "rows", expect.Locator(p.Locator("#list-rows tr")).ToHaveCount(14))
			n, err := p.Evaluate(`() => [...document.querySelectorAll("#list-rows tr")].filter((r) => r.getBoundingClientRect().bottom <= window.innerHeight).length`)
			must(t, "count visible rows", err)
			t.Logf("list rows wholly visible at %d×%d: %v", m.width, m.height, n)
			if num(n) < 10 {
				t.Errorf("only %v list rows fit the first screen at %d×%d, want 10 or more", n, m.width, m.height)
			}
		}
	}
	// The figures, one line a page.
	var b strings.Builder
	fmt.Fprintf(&b, "%-34s", "page")
	for _, m := range modes {
		fmt.Fprintf(&b, " | %-10s axe  width", m.name)
	}
	b.WriteString("\n")
	for _, path := range order {
		fmt.Fprintf(&b, "%-34s", shorten(path))
		for _, m := range modes {
			r := found[key{m.name, path}]
			fmt.Fprintf(&b, " | %-10s %4d %5d", "", r.AxeNodes, r.Scroll)
		}
		b.WriteString("\n")
	}
	t.Logf("axe findings (nodes) and document width per page:\n%s", b.String())
}

// shorten replaces ids in a path with a placeholder for the figures.
func shorten(path string) string {
	return regexp.MustCompile(`inq_[A-Za-z0-9]+`).ReplaceAllString(path, "inq_…")
}

// Names promised to Playwright users resolve to one element each with default (substring)
// matching, on every page where they appear: the audit page's Filter button, the list's
// Needs review quick filter, the nav's Inquiries, Bulk and Mailbox, the form's Street.
func TestPromisedNamesOnEveryPage(t *testing.T) {
	s := seedSite(t)
	p := s.admin
	promised := []struct {
		role playwright.AriaRole
		name string
		on   string // the page that must have it; "" for any page that has it
	}{
		{btn, "Filter", "/audit"},
		{lnk, "Needs review", "/inquiries"},
		{lnk, "Inquiries", "/inquiries"},
		{lnk, "Bulk", "/bulk"},
		{lnk, "Mailbox", "/dev/mailbox"},
		{*playwright.AriaRoleTextbox, "Street", "/inquiries/new"},
	}
	seen := map[string]int{}
	s.walk(t, p, func(path string) {
		for _, n := range promised {
			c, err := p.GetByRole(n.role, playwright.PageGetByRoleOptions{Name: n.name}).Count()
			must(t, "count "+n.name, err)
			if c > 1 {
				t.Errorf("%s: %s %q matches %d elements", path, n.role, n.name, c)
			}
			if path == n.on {
				seen[n.name] = c
			}
		}
		if n := nameless(t, p); len(n) > 0 {
			t.Errorf("%s: controls without a name: %s", path, strings.Join(n, "; "))
		}
	})
	var missing []string
	for _, n := range promised {
		if seen[n.name] != 1 {
			missing = append(missing, fmt.Sprintf("%s %q on %s: %d", n.role, n.name, n.on, seen[n.name]))
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("promised names not found once where promised: %s", strings.Join(missing, "; "))
	}
}
