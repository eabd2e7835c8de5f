package handlers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// A header row of 200,000 unknown names (1.7 MB) once took 54 s of CPU in the check: it is
// refused in words, at once.
func TestBulkHugeHeaderRowRefused(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	e.addUser("ann@example.com", "agent", "pw-ann-123456")
	c := e.signIn("ann@example.com", "pw-ann-123456")
	var b strings.Builder
	b.WriteString("reference_id")
	for i := range 200000 {
		fmt.Fprintf(&b, ",c%d", i)
	}
	b.WriteString("\nusr_1\n")
	start := time.Now()
	res, body := e.postCSV(c, "/bulk/check", "wide.csv", b.String(), map[string]string{"template_id": sandbox.TemplateKYC})
	took := time.Since(start)
	t.Logf("200,000 columns: %d in %v", res.StatusCode, took)
	if res.StatusCode != 422 || !strings.Contains(body, "200001 columns") || !strings.Contains(body, "at most") {
		t.Fatalf("wide header: %d %.300s", res.StatusCode, body)
	}
	if took > 5*time.Second {
		t.Errorf("refusing took %v", took)
	}
}
