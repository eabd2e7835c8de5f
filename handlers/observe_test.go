package handlers

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// TestReadyzRefusesWhileShuttingDown: once the server shuts down (the live hub closes with it)
// /readyz answers 503 and says why, while /livez still answers.
func TestReadyzRefusesWhileShuttingDown(t *testing.T) {
	e := newTestEnv(t)
	if res, body := e.do(e.client(), "GET", "/readyz", nil); res.StatusCode != 200 || !strings.Contains(body, "not shutting down: ok") {
		t.Fatalf("/readyz before shutdown: %d %q", res.StatusCode, body)
	}
	e.srv.live.Close()
	res, body := e.do(e.client(), "GET", "/readyz", nil)
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "not shutting down: failing: the console is shutting down") {
		t.Errorf("/readyz while shutting down: %d %q", res.StatusCode, body)
	}
	if res, _ := e.do(e.client(), "GET", "/livez", nil); res.StatusCode != 200 {
		t.Errorf("/livez while shutting down: %d", res.StatusCode)
	}
}

// TestRequestIDFromTrustedProxy: a trusted proxy's X-Request-ID is kept and echoed; a malformed
// one (spaces, say) is replaced.
func TestRequestIDFromTrustedProxy(t *testing.T) {
	e := newTestEnv(t)
	e.srv.cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	for sent, keep := range map[string]bool{"proxy-req-42": true, "bad id; x": false, strings.Repeat("a", 129): false} {
		req, _ := http.NewRequest("GET", e.ts.URL+"/livez", nil)
		req.Header["X-Request-Id"] = []string{sent}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		got := res.Header.Get("X-Request-ID")
		if (got == sent) != keep || got == "" {
			t.Errorf("X-Request-ID %q from a trusted proxy: answered %q", sent, got)
		}
	}
}
