package inquiry

import (
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/persona"
)

// TestCheckWebhooks: every setting the console cannot use is a warning in words that says what
// to change in Persona's dashboard; a webhook set up as the README says has none.
func TestCheckWebhooks(t *testing.T) {
	const endpoint = "https://linkdesk.example.com/webhooks/persona"
	good := persona.Webhook{ID: "wbh_1", Status: "enabled", URL: endpoint + "/", APIVersion: "2025-12-08", KeyInflection: "snake",
		EnabledEvents: NeededEvents, RelationshipAllowlist: "include_all"}
	if ws := checkWebhooks([]persona.Webhook{{URL: "https://other.example/x"}, good}, endpoint); !ws.Found || ws.Webhook.ID != "wbh_1" || len(ws.Warnings) != 0 {
		t.Errorf("good webhook: %+v", ws)
	}
	bad := good
	bad.Status, bad.APIVersion, bad.EnabledEvents = "disabled", "2022-09-01", []string{"inquiry.created", "inquiry.completed"}
	bad.RelationshipAllowlist, bad.AttributesBlocklist = "include_none", []string{"name-*", "/data/attributes/fields"}
	ws := checkWebhooks([]persona.Webhook{bad, good}, endpoint)
	all := strings.Join(ws.Warnings, "\n")
	for _, want := range []string{
		"The webhook is disabled: enable it in Persona's dashboard",
		`Its API version "2022-09-01" is not one Linkdesk reads (2023-01-05, 2025-10-27, 2025-12-08): set API version to 2025-12-08`,
		"It does not send inquiry.started, inquiry.expired, inquiry.failed, inquiry.marked-for-review, inquiry.approved, inquiry.declined, inquiry.redacted: enable them under Enabled events",
		"set the relationship allowlist to include all",
		"leaves out name-first, name-last, fields, which Linkdesk shows",
		"1 more webhook(s) send to this console",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
	if ws := checkWebhooks(nil, endpoint); ws.Found || len(ws.Warnings) != 1 || !strings.Contains(ws.Warnings[0], "No webhook in Persona sends to "+endpoint) {
		t.Errorf("no webhook: %+v", ws)
	}
	star := good
	star.EnabledEvents = []string{"*"}
	if ws := checkWebhooks([]persona.Webhook{star}, endpoint); len(ws.Warnings) != 0 {
		t.Errorf("every event enabled: %v", ws.Warnings)
	}
}
