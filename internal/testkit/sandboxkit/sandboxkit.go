// Package sandboxkit starts the built-in Persona sandbox over HTTP for tests. It is apart from
// testkit so that the sandbox's own tests can use testkit without an import cycle.
package sandboxkit

import (
	"net/http/httptest"
	"testing"

	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// Start serves a new sandbox on a localhost port and returns it with its base URL (the API is
// under URL+"/api/v1"). An empty opts.PublicURL becomes that URL. When the test ends the
// sandbox stops its deliveries and timers, then its listener closes.
func Start(t testing.TB, opts sandbox.Options) (*sandbox.Sandbox, string) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	url := "http://" + ts.Listener.Addr().String()
	if opts.PublicURL == "" {
		opts.PublicURL = url
	}
	sb := sandbox.New(opts)
	ts.Config.Handler = sb
	ts.Start()
	t.Cleanup(func() { sb.Close(); ts.Close() })
	return sb, url
}
