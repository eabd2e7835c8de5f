package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestBinaryLeavesOutTheSeeder: the synthetic-data seeder is for tests and benchmarks only; the
// shipped binary does not carry it.
func TestBinaryLeavesOutTheSeeder(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/linkdesk/linkdesk/db") {
		t.Fatalf("go list -deps lists no db package: %v", deps)
	}
	if slices.Contains(deps, "github.com/linkdesk/linkdesk/internal/seed") {
		t.Error("the binary imports internal/seed")
	}
}
