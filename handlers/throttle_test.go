package handlers

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// clientFrom is a browser-like client whose connections come from the loopback address ip
// (Linux answers on all of 127.0.0.0/8), so the console sees distinct client addresses.
func (e *testEnv) clientFrom(ip string) *http.Client {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Jar: jar, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// fakeClock is a settable clock for the limiter.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func signInAs(e *testEnv, c *http.Client, email, password string, hdr map[string]string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.ts.URL+"/login", strings.NewReader(url.Values{"email": {email}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return res.StatusCode, b.String()
}

// Wrong passwords from one address slow that address, and the account for addresses that
// guessed wrong, but never refuse the owner's correct password from another address.
func TestSignInThrottleSparesTheOwner(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("ada@example.com", db.RoleAgent, pw)
	attacker := e.clientFrom("127.0.0.2")
	for i := range 8 {
		want := http.StatusUnprocessableEntity
		if i >= 5 {
			want = http.StatusTooManyRequests
		}
		if st, _ := signInAs(e, attacker, "ada@example.com", "guess guess guess", nil); st != want {
			t.Fatalf("attacker attempt %d: %d, want %d", i+1, st, want)
		}
	}
	// The attacker's address waits, even with the right password.
	if st, body := signInAs(e, attacker, "ada@example.com", pw, nil); st != http.StatusTooManyRequests || !strings.Contains(body, "Too many attempts. Try again in") {
		t.Fatalf("attacker with the right password: %d, want 429 with the wording", st)
	}
	// Ada, from her own address, gets in.
	if st, body := signInAs(e, e.clientFrom("127.0.0.3"), "ada@example.com", pw, nil); st != http.StatusSeeOther {
		t.Fatalf("owner from another address: %d, want 303: %.200s", st, body)
	}
	// A second attacker address gets its free guesses once the account is cleared, but the
	// account's own back-off holds on every address that guessed wrong on it.
	for range 5 {
		signInAs(e, e.clientFrom("127.0.0.4"), "ada@example.com", "guess guess guess", nil)
	}
	second := e.clientFrom("127.0.0.5")
	if st, _ := signInAs(e, second, "ada@example.com", "another guess", nil); st != http.StatusUnprocessableEntity {
		t.Fatalf("fresh address, first guess: %d, want 422", st)
	}
	if st, _ := signInAs(e, second, "ada@example.com", "and another", nil); st != http.StatusTooManyRequests {
		t.Fatalf("fresh address, second guess on a backed-off account: %d, want 429", st)
	}
}

// After the free failures each wait doubles, and the wording names the wait.
func TestSignInBackoffGrows(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("ada@example.com", db.RoleAgent, pw)
	clock := &fakeClock{t: time.Now()}
	e.srv.limiter.setClock(clock.Now)
	c := e.client()
	for range 5 {
		signInAs(e, c, "ada@example.com", "wrong wrong wrong", nil)
	}
	for _, want := range []string{"30 s", "60 s", "120 s", "240 s", "480 s", "900 s", "900 s"} {
		st, body := signInAs(e, c, "ada@example.com", "wrong wrong wrong", nil)
		if st != http.StatusTooManyRequests || !strings.Contains(body, "Too many attempts. Try again in "+want+".") {
			t.Fatalf("%d, want 429 saying %q", st, want)
		}
		w, _ := strings.CutSuffix(want, " s")
		d, _ := time.ParseDuration(w + "s")
		clock.Add(d)
		if st, _ := signInAs(e, c, "ada@example.com", "wrong wrong wrong", nil); st != http.StatusUnprocessableEntity {
			t.Fatalf("after waiting %s: %d, want the password checked (422)", want, st)
		}
	}
	// An hour of quiet forgets the failures; the right password works.
	clock.Add(time.Hour)
	if st, _ := signInAs(e, c, "ada@example.com", pw, nil); st != http.StatusSeeOther {
		t.Fatalf("after an hour: %d", st)
	}
}

// Behind a trusted proxy each client is counted by its own address from X-Forwarded-For; a
// client cannot dodge its count by writing its own X-Forwarded-For, and an untrusted peer's
// header is ignored.
func TestSignInBehindTrustedProxy(t *testing.T) {
	se, _ := newLoggedEnv(t, sandbox.Knobs{}, func(c *Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
	})
	e := se.testEnv
	e.addUser("ada@example.com", db.RoleAgent, pw)
	e.addUser("bob@example.com", db.RoleAgent, pw)
	proxy := e.client() // connects from 127.0.0.1
	mallory := map[string]string{"X-Forwarded-For": "203.0.113.9, 10.0.0.7"}
	for range 5 {
		signInAs(e, proxy, "ada@example.com", "guess guess guess", mallory)
	}
	if st, _ := signInAs(e, proxy, "bob@example.com", "guess guess guess", mallory); st != http.StatusTooManyRequests {
		t.Fatalf("same client, other account: %d, want 429", st)
	}
	// Spoofing a left-hand entry does not help: the proxy appended the real address.
	spoof := map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.9, 10.0.0.7"}
	if st, _ := signInAs(e, proxy, "bob@example.com", "guess guess guess", spoof); st != http.StatusTooManyRequests {
		t.Fatalf("spoofed X-Forwarded-For: %d, want 429", st)
	}
	// Everyone else behind the same proxy signs in.
	if st, _ := signInAs(e, e.client(), "bob@example.com", pw, map[string]string{"X-Forwarded-For": "198.51.100.7"}); st != http.StatusSeeOther {
		t.Fatalf("another client behind the proxy: %d, want 303", st)
	}
	if st, _ := signInAs(e, e.client(), "ada@example.com", pw, map[string]string{"X-Forwarded-For": "198.51.100.8"}); st != http.StatusSeeOther {
		t.Fatalf("the owner behind the proxy: %d, want 303", st)
	}
	// From an address that is not a trusted proxy, X-Forwarded-For counts for nothing.
	direct := e.clientFrom("127.0.0.9")
	for i := range 6 {
		st, _ := signInAs(e, direct, "bob@example.com", "guess guess guess", map[string]string{"X-Forwarded-For": "192.0.2." + itoa(int64(i+1))})
		if i == 5 && st != http.StatusTooManyRequests {
			t.Fatalf("untrusted peer rotating X-Forwarded-For: %d on attempt 6, want 429", st)
		}
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.0.0.0/8, 192.168.1.5 ,::1,")
	if err != nil || len(got) != 3 || got[1].String() != "192.168.1.5/32" || got[2].String() != "::1/128" {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := ParseTrustedProxies("10.0.0.0/8,proxy.internal"); err == nil || !strings.Contains(err.Error(), `"proxy.internal"`) {
		t.Fatalf("bad entry: %v", err)
	}
}

// "disabled" is said only to someone who knows the password.
func TestDisabledNotRevealedWithoutThePassword(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	id := e.addUser("ada@example.com", db.RoleAgent, pw)
	dis := true
	noErr(t, e.db.UpdateUser(t.Context(), id, db.UserUpdate{Disabled: &dis}, db.AuditEntry{Action: "test"}))
	st, body := signInAs(e, e.client(), "ada@example.com", "not her password", nil)
	if st != http.StatusUnprocessableEntity || strings.Contains(body, "disabled") || !strings.Contains(body, "The email or password is not right.") {
		t.Fatalf("wrong password on a disabled account: %d, disabled revealed: %v", st, strings.Contains(body, "disabled"))
	}
	st, body = signInAs(e, e.client(), "ada@example.com", pw, nil)
	if st != http.StatusUnprocessableEntity || !strings.Contains(body, "This account is disabled") {
		t.Fatalf("right password on a disabled account: %d, want it told it is disabled", st)
	}
}
