package e2e

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/playwright-community/playwright-go"
)

// freePort is a port nothing listens on right now (the provider must know the console's
// address before either starts).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, "free port", err)
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// startProvider runs the npm oidc-provider (fetched by make e2e-deps) as a child process, with
// a client for the console at consoleURL, and returns its issuer URL.
func startProvider(t *testing.T, consoleURL, secret string) string {
	t.Helper()
	dir := os.Getenv("LINKDESK_OIDC_PROVIDER")
	if dir == "" {
		found, _ := filepath.Glob("../.cache/oidc-provider-*")
		if len(found) > 0 {
			dir, _ = filepath.Abs(found[len(found)-1])
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider", "package.json")); err != nil {
		t.Fatalf("the OpenID Provider for the SSO journeys is missing (%q): run 'make e2e-deps'", dir)
	}
	node := os.Getenv("PLAYWRIGHT_NODEJS_PATH")
	cmd := exec.Command(node, "testdata/oidc-provider.mjs", dir, freePort(t), consoleURL, secret)
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	must(t, "start the OpenID Provider", cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	issuer := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if i, ok := strings.CutPrefix(sc.Text(), "issuer "); ok {
				issuer <- i
			}
		}
	}()
	select {
	case i := <-issuer:
		return i
	case <-time.After(30 * time.Second):
		t.Fatalf("the OpenID Provider did not start:\n%s", stderr.String())
		return ""
	}
}

// ssoSignIn clicks "Sign in with SSO" and signs in at the provider's own pages as login.
func ssoSignIn(t *testing.T, c *console, p playwright.Page, login string) {
	t.Helper()
	_, err := p.Goto(c.URL + "/login")
	must(t, "open sign-in", err)
	must(t, "one Sign in with SSO", expect.Locator(p.GetByRole(btn, playwright.PageGetByRoleOptions{Name: "Sign in with SSO"})).ToHaveCount(1))
	click(t, p, btn, "Sign in with SSO")
	must(t, "provider login", p.Locator(`input[name="login"]`).Fill(login))
	must(t, "provider password", p.Locator(`input[name="password"]`).Fill("any password"))
	click(t, p, btn, "Sign-in")
	click(t, p, btn, "Continue") // the provider's consent
}

// "Sign in with SSO" at a real OpenID Provider lands with the role the person's group maps to;
// a person in no mapped group is refused in words; signing out ends the session at the
// provider too.
func TestSSOJourney(t *testing.T) {
	port := freePort(t)
	consoleURL := "http://127.0.0.1:" + port
	secret := "e2e client secret"
	issuer := startProvider(t, consoleURL, secret)
	c := startConsoleWith(t, []string{"--addr", "127.0.0.1:" + port, "--oidc-issuer", issuer, "--oidc-client-id", "linkdesk",
		"--oidc-roles", "admin=linkdesk-admins,agent=linkdesk-agents,viewer=linkdesk-viewers"},
		"LINKDESK_OIDC_CLIENT_SECRET="+secret)
	admin := newPage(t)
	setUpAdmin(t, c, admin)
	click(t, admin, lnk, "Settings")
	must(t, "redirect URI on Settings", expect.Locator(admin.GetByText(consoleURL+"/auth/oidc/callback")).ToBeVisible())

	p := newPage(t)
	// The provider's pages ask for a web font this network does not reach.
	must(t, "block fonts", p.Context().Route("https://fonts.googleapis.com/**", func(r playwright.Route) { r.Abort() }))
	ssoSignIn(t, c, p, "sam")
	must(t, "signed in", expect.Locator(role(p, hdg, "Inquiries")).ToBeVisible())
	must(t, "agents create inquiries", expect.Locator(role(p, lnk, "New inquiry")).ToBeVisible())
	must(t, "but see no Staff", expect.Locator(role(p, lnk, "Staff")).ToHaveCount(0))

	click(t, admin, lnk, "Staff")
	must(t, "account made on first sign-in", expect.Locator(role(admin, cell, "sam@example.com")).ToBeVisible())
	must(t, "with the mapped role", expect.Locator(admin.GetByRole("row").Filter(playwright.LocatorFilterOptions{HasText: "sam@example.com"}).GetByRole("cell", playwright.LocatorGetByRoleOptions{Name: "agent", Exact: playwright.Bool(true)})).ToBeVisible())

	click(t, p, lnk, "Sign out")
	click(t, p, btn, "Yes, sign me out") // the provider's own sign-out
	must(t, "back at sign-in", expect.Locator(notice(p, "You are signed out.")).ToBeVisible())

	refused := newPage(t)
	must(t, "block fonts", refused.Context().Route("https://fonts.googleapis.com/**", func(r playwright.Route) { r.Abort() }))
	ssoSignIn(t, c, refused, "mo")
	must(t, "refused in words", expect.Locator(refused.GetByText("in no group that Linkdesk maps to a role")).ToBeVisible())
	must(t, "still at sign-in", expect.Locator(role(refused, hdg, "Sign in")).ToBeVisible())

	click(t, admin, lnk, "Audit")
	must(t, "refusal audited", expect.Locator(admin.GetByText("An SSO sign-in as mo@example.com was refused")).ToBeVisible())
}
