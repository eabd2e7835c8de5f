package sandbox

import (
	"net/http"
	"strings"
	"testing"
)

// TestVersionShapes: the answer follows the request's Persona-Version and Key-Inflection.
func TestVersionShapes(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(TemplateKYC, "usr_shapes", map[string]any{"name-first": "Alexander", "email-address": "a@example.com"})

	old := e.call("GET", "/inquiries/"+id, nil, "Persona-Version", "2023-01-05")
	if old.str("data.attributes.name-first") != "Alexander" || old.str("data.attributes.fields.name-first.value") != "Alexander" || old.get("included") == nil {
		t.Errorf("2023-01-05: top-level PII, kebab fields and a default included expected: %s", old.raw)
	}
	for _, v := range []string{"2025-10-27", "2025-12-08"} {
		r := e.call("GET", "/inquiries/"+id, nil, "Persona-Version", v)
		attrs, _ := r.get("data.attributes").(map[string]any)
		if _, has := attrs["name-first"]; has || r.str("data.attributes.fields.name_first.value") != "Alexander" || r.get("included") != nil {
			t.Errorf("%s: PII only in fields under snake keys, nothing included: %s", v, r.raw)
		}
		// Top-level PII on update is ignored from 2025-10-27.
		e.call("PATCH", "/inquiries/"+id, map[string]any{"data": map[string]any{"attributes": map[string]any{"name-first": "Changed"}}}, "Persona-Version", v)
	}
	if got := e.call("GET", "/inquiries/"+id, nil).str("data.attributes.name-first"); got != "Alexander" {
		t.Errorf("top-level name-first sent on 2025-10-27 was applied: %q", got)
	}

	snake := e.call("GET", "/inquiries/"+id, nil, "Key-Inflection", "snake")
	if snake.str("data.attributes.reference_id") != "usr_shapes" || snake.str("data.attributes.fields.email_address.value") != "a@example.com" ||
		snake.get("data.relationships.inquiry_template.data.id") != TemplateKYC {
		t.Errorf("snake: %s", snake.raw)
	}
	camel := e.call("GET", "/inquiries/"+id, nil, "Key-Inflection", "camel", "Persona-Version", "2025-12-08")
	if camel.str("data.attributes.referenceId") != "usr_shapes" || camel.str("data.attributes.fields.email_address.value") != "a@example.com" {
		t.Errorf("camel on 2025-12-08 (fields' keys verbatim): %s", camel.raw)
	}

	for _, h := range [][2]string{{"Persona-Version", "2024-01-01"}, {"Key-Inflection", "screaming"}} {
		r := e.call("GET", "/inquiries/"+id, nil, h[0], h[1])
		if r.status != http.StatusBadRequest || !strings.Contains(r.str("errors.0.details"), h[1]) {
			t.Errorf("%s %s: %d %s", h[0], h[1], r.status, r.raw)
		}
	}
}
