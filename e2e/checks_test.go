package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/playwright-community/playwright-go"
)

// Every console page a test visits is checked twice over, whatever the test itself asserts:
// axe-core (its default rules: WCAG 2 A and AA, and best practices) runs after each load and
// on the page as the test leaves it (htmx swaps included), and any Content-Security-Policy
// violation, in the page or its frames, fails. Not after every swap: running axe on each live
// update made the detail page miss its stream's last update now and then (TestPersonPage).

// consoles are the base URLs of the running consoles; pages elsewhere (the sandbox's hosted
// flow stands in for Persona's) are not ours to check.
var consoles urlSet

type urlSet struct {
	mu   sync.Mutex
	urls []string
}

func (u *urlSet) add(url string) { u.mu.Lock(); u.urls = append(u.urls, url); u.mu.Unlock() }

// remove forgets a console that stopped: its port may next serve another test's Persona
// sandbox, whose hosted flow would then be checked as if it were ours.
func (u *urlSet) remove(url string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.urls = slices.DeleteFunc(u.urls, func(v string) bool { return v == url })
}

func (u *urlSet) all() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string{}, u.urls...)
}

// ours reports whether url is a console's page, and its path there.
func (u *urlSet) ours(url string) (string, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, c := range u.urls {
		if strings.HasPrefix(url, c+"/") || url == c {
			return strings.TrimPrefix(url, c), true
		}
	}
	return "", false
}

// checkScript runs in every document of a watched context. It reports through the
// __linkdeskReport binding; window.__linkdeskCheck() runs axe once more and resolves when done.
const checkScript = `(() => {
  // The binding's promise settles once the test has the report: a check awaits it.
  const report = async (kind, detail) => { try { await window.__linkdeskReport(kind, location.href, detail); } catch (_) {} };
  document.addEventListener("securitypolicyviolation", (e) =>
    report("csp", JSON.stringify({directive: e.violatedDirective, blocked: e.blockedURI || "inline", sample: e.sample})), true);
  // Only the console's own pages: the hosted flow stands in for Persona's, not ours to fix.
  if (window.top !== window || !window.axe || !__linkdeskOrigins.includes(location.origin)) return;
  // One run at a time (axe refuses a second); a change during a run asks for one more.
  let running = null, again = false;
  const run = () => {
    if (running) { again = true; return running; }
    // Template code printed as text ("@PersonLink(") instead of run.
    const code = (document.body ? document.body.innerText : "").match(/@[A-Z][A-Za-z]+\(/g);
    if (code) report("template-code", code.join(" "));
    running = axe.run(document, {iframes: false, resultTypes: ["violations"]})
      .then(async (r) => { await report("checked", ""); if (r.violations.length) await report("axe", JSON.stringify(r.violations.map((v) => ({
          id: v.id, impact: v.impact, help: v.help,
          nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " "))})))); })
      .catch((e) => report("axe-error", String(e)))
      .finally(() => { running = null; if (again) { again = false; run(); } });
    return running;
  };
  window.__linkdeskCheck = async () => { while (running) await running; await run(); while (running) await running; };
  window.addEventListener("load", () => run());
})();`

// watcher collects what the checks found in one browser context.
type watcher struct {
	t    *testing.T
	page playwright.Page // the test's own page, checked once more at the end

	mu       sync.Mutex
	seen     map[string]bool
	problems []string
	checked  map[string]int // axe runs per path, for the log
}

// watch installs the checks in bc; failures are reported when the test ends, before bc closes.
func watch(t *testing.T, bc playwright.BrowserContext) *watcher {
	t.Helper()
	w := installChecks(t, bc)
	t.Cleanup(func() { // runs before the context's own cleanup closes it
		for _, p := range w.collect() {
			t.Error(p)
		}
		w.mu.Lock()
		t.Logf("accessibility checks: %d axe runs on %d addresses", sum(w.checked), len(w.checked))
		w.mu.Unlock()
	})
	return w
}

func installChecks(t *testing.T, bc playwright.BrowserContext) *watcher {
	t.Helper()
	w := &watcher{t: t, seen: map[string]bool{}, checked: map[string]int{}}
	err := bc.ExposeBinding("__linkdeskReport", func(_ *playwright.BindingSource, args ...any) any {
		if len(args) == 3 {
			kind, _ := args[0].(string)
			url, _ := args[1].(string)
			detail, _ := args[2].(string)
			w.add(kind, url, detail)
		}
		return nil
	})
	must(t, "expose the check binding", err)
	origins, _ := json.Marshal(consoles.all())
	// axe is evaluated only in a console's top document: the hosted flow's pages (and frames)
	// skip its 650 KB, which slowed them under load.
	script := "const __linkdeskOrigins = " + string(origins) + ";\n" +
		"if (window.top === window && __linkdeskOrigins.includes(location.origin)) {\n" + axeSource + "\n}\n" + checkScript
	must(t, "install axe", bc.AddInitScript(playwright.Script{Content: &script}))
	bc.OnConsole(func(m playwright.ConsoleMessage) {
		if strings.Contains(m.Text(), "Content Security Policy") && m.Page() != nil {
			w.add("csp-console", m.Page().URL(), m.Text())
		}
	})
	return w
}

func (w *watcher) add(kind, url, detail string) {
	path, ok := consoles.ours(url)
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var lines []string
	switch kind {
	case "checked":
		w.checked[path]++
	case "axe":
		var vs []struct {
			ID, Impact, Help string
			Nodes            []string
		}
		json.Unmarshal([]byte(detail), &vs)
		for _, v := range vs {
			lines = append(lines, fmt.Sprintf("axe %s (%s) on %s: %s\n\t\t%s", v.ID, v.Impact, path, v.Help, strings.Join(v.Nodes, "\n\t\t")))
		}
	default:
		lines = append(lines, fmt.Sprintf("%s on %s: %s", kind, path, detail))
	}
	for _, l := range lines {
		if !w.seen[l] {
			w.seen[l] = true
			w.problems = append(w.problems, l)
		}
	}
}

// collect checks the page as the test left it and returns everything found.
func (w *watcher) collect() []string {
	if _, ok := consoles.ours(w.page.URL()); ok && !w.page.IsClosed() {
		if _, err := w.page.Evaluate(`() => window.__linkdeskCheck && window.__linkdeskCheck()`); err != nil {
			w.t.Logf("final accessibility check of %s: %v", w.page.URL(), err)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.problems...)
}

func sum(m map[string]int) (n int) {
	for _, v := range m {
		n += v
	}
	return n
}
