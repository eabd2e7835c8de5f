package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestServeRefusesABadTrustedProxy(t *testing.T) {
	err := runServe(context.Background(), []string{"--addr", "127.0.0.1:0", "--db", t.TempDir() + "/x.db", "--trusted-proxy", "10.0.0.0/8,proxy.internal"}, strings.NewReader(""), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--trusted-proxy") || !strings.Contains(err.Error(), `"proxy.internal"`) {
		t.Fatalf("err = %v, want the bad entry named", err)
	}
	t.Setenv("LINKDESK_TRUSTED_PROXY", "not-an-ip")
	err = runServe(context.Background(), []string{"--addr", "127.0.0.1:0", "--db", t.TempDir() + "/x.db"}, strings.NewReader(""), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), `"not-an-ip"`) {
		t.Fatalf("from the environment: err = %v, want the bad entry named", err)
	}
}
