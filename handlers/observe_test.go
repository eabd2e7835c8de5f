package handlers

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
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

// replicaState is the replication's state as serve's watch loop reports it.
type replicaState struct{ st ReplicationStatus }

func (r replicaState) Status() ReplicationStatus { return r.st }

// TestReplicationBehindShows: a replica trailing for longer than serve accepts fails /readyz
// and is a warning on the Webhooks page; in step, both say so.
func TestReplicationBehindShows(t *testing.T) {
	e := newTestEnv(t)
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	admin := e.signIn("admin@example.com", pw)
	at := time.Now().Add(-5 * time.Minute)
	e.srv.replication = replicaState{ReplicationStatus{Target: "s3://bucket/prod", LastOK: at, Lag: 5 * time.Minute, Failing: true, LastError: "connection refused"}}
	res, body := e.do(e.client(), "GET", "/readyz", nil)
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "replication: failing: the replica s3://bucket/prod has not been in step for 5m0s") {
		t.Errorf("/readyz with the replica behind: %d %q", res.StatusCode, body)
	}
	_, body = e.do(admin, "GET", "/webhooks", nil)
	if !strings.Contains(body, `role="alert">Streaming to s3://bucket/prod; last in step`) || !strings.Contains(body, "falling behind") {
		t.Errorf("Webhooks page does not warn of the replica falling behind")
	}
	e.srv.replication = replicaState{ReplicationStatus{Target: "s3://bucket/prod", LastOK: time.Now()}}
	if res, body := e.do(e.client(), "GET", "/readyz", nil); res.StatusCode != 200 || !strings.Contains(body, "replication: ok") {
		t.Errorf("/readyz in step: %d %q", res.StatusCode, body)
	}
	if _, body = e.do(admin, "GET", "/webhooks", nil); !strings.Contains(body, "Streaming to s3://bucket/prod; in step") {
		t.Errorf("Webhooks page in step does not say so")
	}
}
