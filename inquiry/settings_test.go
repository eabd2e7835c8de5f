package inquiry

import (
	"context"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/internal/testkit"
	"github.com/linkdesk/linkdesk/internal/testkit/sandboxkit"
	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// With a production key, a 404 from Persona on the template import says what happened, not
// that a production key is needed.
func TestImportTemplates404SaysWhatHappened(t *testing.T) {
	ctx := context.Background()
	d := testkit.OpenDB(t)
	const key = "persona_production_test"
	_, url := sandboxkit.Start(t, sandbox.Options{APIKey: key})
	// An API URL one segment off: the sandbox answers 404 in Persona's error shape.
	base := url + "/api/v1/wrong"
	svc := New(d, Settings{APIKey: key, APIBaseURL: base}, testkit.Discard(), Deps{})
	_, err := svc.ImportTemplates(ctx, agent)
	msg := persona.Explain(err)
	if !persona.IsNotFound(err) || strings.Contains(msg, "only with a production API key") {
		t.Fatalf("import: %v / %q, want a 404 not blamed on the key", err, msg)
	}
	for _, want := range []string{"Persona answered 404", "a production key", base, "add templates by id"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	// With the right URL the same key imports the templates.
	svc = New(d, Settings{APIKey: key, APIBaseURL: url + "/api/v1"}, testkit.Discard(), Deps{})
	if n, err := svc.ImportTemplates(ctx, agent); err != nil || n == 0 {
		t.Errorf("import with the right URL: %d, %v", n, err)
	}
}
