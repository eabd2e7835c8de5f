// Package e2e drives whole journeys in a real headless Chromium against the real linkdesk
// binary (started with --dev: built-in Persona sandbox and mail catcher), finding elements by
// role and label as a person would.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/internal/testkit"
	"github.com/playwright-community/playwright-go"
)

var (
	binary  string
	browser playwright.Browser
	// axeSource is axe-core's engine (make e2e-deps fetches it), run on every console page.
	axeSource string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "linkdesk-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "linkdesk")
	build := exec.Command("go", "build", "-o", binary, "../cmd/linkdesk")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build linkdesk:", err)
		return 1
	}

	driverDir := os.Getenv("PLAYWRIGHT_DRIVER_PATH")
	if driverDir == "" {
		driverDir, _ = filepath.Abs("../.cache/playwright-driver")
	}
	chromium := os.Getenv("LINKDESK_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if os.Getenv("PLAYWRIGHT_NODEJS_PATH") == "" {
		os.Setenv("PLAYWRIGHT_NODEJS_PATH", "/usr/bin/node")
	}
	// Never skip silently: a skipped end-to-end suite is a suite that rots.
	if _, err := os.Stat(filepath.Join(driverDir, "package", "cli.js")); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: the Playwright driver is missing in %s: run 'make e2e-deps'\n", driverDir)
		return 1
	}
	if _, err := os.Stat(chromium); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: Chromium is missing at %s: run 'make e2e-deps' or set LINKDESK_CHROMIUM\n", chromium)
		return 1
	}
	axePath := os.Getenv("LINKDESK_AXE")
	if axePath == "" {
		axePath, _ = filepath.Abs("../.cache/axe-core/package/axe.min.js")
	}
	axe, err := os.ReadFile(axePath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: axe-core is missing (%v): run 'make e2e-deps' or set LINKDESK_AXE\n", err)
		return 1
	}
	axeSource = string(axe)
	pw, err := playwright.Run(&playwright.RunOptions{DriverDirectory: driverDir, SkipInstallBrowsers: true, Verbose: false})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start Playwright:", err)
		return 1
	}
	defer pw.Stop()
	browser, err = pw.Chromium.Launch(playwright.BrowserTypeLaunchOptions{
		ExecutablePath: playwright.String(chromium),
		Args: []string{"--no-sandbox", "--disable-gpu", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: launch Chromium:", err)
		return 1
	}
	defer browser.Close()
	return m.Run()
}

// console is one running linkdesk serve --dev with its own database.
type console struct {
	URL      string
	SetupURL string
	out      *testkit.Logs
}

var (
	runningRe = regexp.MustCompile(`Linkdesk is running at (\S+?)/?\s*$`)
	setupRe   = regexp.MustCompile(`create the admin account at (\S+)`)
)

// startConsole runs the real binary on a free port, as `make run` does, and waits for its URL
// and setup link.
func startConsole(t *testing.T, extraEnv ...string) *console {
	t.Helper()
	return startConsoleWith(t, nil, extraEnv...)
}

// startConsoleWith is startConsole with more flags (later ones win, e.g. --addr).
func startConsoleWith(t *testing.T, flags []string, extraEnv ...string) *console {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	args := append([]string{"serve", "--dev", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "e2e.db")}, flags...)
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	stdout, _ := cmd.StdoutPipe()
	c := &console{out: &testkit.Logs{}}
	cmd.Stderr = c.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		consoles.remove(c.URL)
		if t.Failed() {
			t.Logf("console output:\n%s", c.out.String())
		}
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(c.out, line)
			if m := runningRe.FindStringSubmatch(line); m != nil {
				c.URL = m[1]
			}
			if m := setupRe.FindStringSubmatch(line); m != nil {
				c.SetupURL = m[1]
				close(ready)
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatalf("linkdesk did not print its setup link in time:\n%s", c.out.String())
	}
	consoles.add(c.URL)
	return c
}

// newPage opens a fresh browser context (own cookies) and page.
func newPage(t *testing.T) playwright.Page {
	t.Helper()
	bc, err := browser.NewContext(playwright.BrowserNewContextOptions{
		Permissions: []string{"clipboard-read", "clipboard-write"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bc.Close() })
	bc.SetDefaultTimeout(15000)
	w := watch(t, bc)
	p, err := bc.NewPage()
	if err != nil {
		t.Fatal(err)
	}
	w.page = p
	return p
}

// must fails the test on err, naming the step.
func must(t *testing.T, step string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

var expect = playwright.NewPlaywrightAssertions(10000)

// Roles by which tests find elements.
var (
	btn  = *playwright.AriaRoleButton
	lnk  = *playwright.AriaRoleLink
	hdg  = *playwright.AriaRoleHeading
	cell = *playwright.AriaRoleCell
)

func role(p playwright.Page, r playwright.AriaRole, name string) playwright.Locator {
	return p.GetByRole(r, playwright.PageGetByRoleOptions{Name: name, Exact: playwright.Bool(true)})
}

func label(p playwright.Page, name string) playwright.Locator {
	return p.GetByLabel(name, playwright.PageGetByLabelOptions{Exact: playwright.Bool(true)})
}

// fill types into the fields named by their labels.
func fill(t *testing.T, p playwright.Page, fields ...string) {
	t.Helper()
	for i := 0; i+1 < len(fields); i += 2 {
		must(t, "fill "+fields[i], label(p, fields[i]).Fill(fields[i+1]))
	}
}

// notice finds a status message (flash) containing text.
func notice(p playwright.Page, text string) playwright.Locator {
	return p.GetByRole("status").Filter(playwright.LocatorFilterOptions{HasText: text})
}

func click(t *testing.T, p playwright.Page, r playwright.AriaRole, name string) {
	t.Helper()
	must(t, "click "+name, role(p, r, name).Click())
}

// setUpAdmin completes first-run setup and returns the page signed in as the admin.
func setUpAdmin(t *testing.T, c *console, p playwright.Page) {
	t.Helper()
	_, err := p.Goto(c.SetupURL)
	must(t, "open setup link", err)
	fill(t, p, "Name", "Ada Admin", "Email", "ada@example.com", "Password", "admin password 123")
	click(t, p, btn, "Create admin account")
	must(t, "setup lands on Inquiries", expect.Locator(role(p, hdg, "Inquiries")).ToBeVisible())
}

// signOut signs out and waits for the sign-out's own navigation to end: a Goto racing it is
// aborted (net::ERR_ABORTED).
func signOut(t *testing.T, p playwright.Page) {
	t.Helper()
	click(t, p, lnk, "Sign out")
	must(t, "signed out", expect.Locator(p.GetByText("You are signed out.")).ToBeVisible())
}

func signIn(t *testing.T, c *console, p playwright.Page, email, password string) {
	t.Helper()
	_, err := p.Goto(c.URL + "/login")
	must(t, "open sign-in", err)
	fill(t, p, "Email", email, "Password", password)
	click(t, p, btn, "Sign in")
}
