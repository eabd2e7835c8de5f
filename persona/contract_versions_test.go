package persona_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// versionOf is the Persona-Version a contract test runs on: the one its name carries under
// TestContractEveryVersion, else the client's default.
func versionOf(t *testing.T) string {
	for _, v := range persona.SupportedVersions {
		if strings.Contains(t.Name(), "/"+v+"/") || strings.HasSuffix(t.Name(), "/"+v) {
			return v
		}
	}
	return ""
}

// TestContractEveryVersion runs the contract on every version the client speaks, the
// sandbox's webhooks on that version too.
func TestContractEveryVersion(t *testing.T) {
	suite := []struct {
		name string
		fn   func(*testing.T)
	}{
		{"CreateAndRetrieve", TestContractCreateAndRetrieve},
		{"Errors", TestContractErrors},
		{"StateRules", TestContractStateRules},
		{"Verifications", TestContractVerifications},
		{"ListAndPagination", TestContractListAndPagination},
		{"Idempotency", TestContractIdempotency},
		{"WebhooksSigned", TestContractWebhooksSigned},
		{"Webhooks", TestContractWebhooks},
	}
	for _, v := range persona.SupportedVersions {
		t.Run(v, func(t *testing.T) {
			for _, tc := range suite {
				t.Run(tc.name, tc.fn)
			}
		})
	}
}

// TestContractWebhooks: the webhook list says how the sandbox's webhook is set up, and its
// deliveries, in that version and inflection and signed with both secrets of a rotation,
// carry the person's name and end with inquiry.redacted after a redaction.
func TestContractWebhooks(t *testing.T) {
	for _, inflection := range []string{"kebab", "snake", "camel"} {
		t.Run(inflection, func(t *testing.T) {
			events := make(chan *persona.Event, 64)
			errs := make(chan error, 64)
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				// Only the new secret: the old one signs too during the rotation.
				ev, err := persona.VerifyWebhook(r.Header.Get("Persona-Signature"), body, []string{"wbhsec_new"}, 0, time.Now())
				if err != nil {
					errs <- err
					return
				}
				events <- ev
			}))
			defer hook.Close()
			k := newContract(t, sandbox.Options{WebhookURL: hook.URL, WebhookSecret: "wbhsec_old", WebhookSecrets: []string{"wbhsec_new"}, WebhookKeyInflection: inflection})
			hooks, err := k.c.ListWebhooks(ctx)
			if err != nil || len(hooks) != 1 {
				t.Fatalf("webhooks %+v, %v", hooks, err)
			}
			w := hooks[0]
			wantVersion := versionOf(t)
			if wantVersion == "" {
				wantVersion = sandbox.DefaultVersion
			}
			if !persona.SameEndpoint(w.URL, hook.URL+"/") || w.APIVersion != wantVersion || w.KeyInflection != inflection ||
				!w.EnabledFor("inquiry.approved") || w.RelationshipAllowlist != "include_all" {
				t.Errorf("webhook %+v", w)
			}
			q := k.create(t, "usr_hooks_"+inflection)
			if err := k.sb.Complete(q.ID, true); err != nil {
				t.Fatal(err)
			}
			if _, err := k.c.RedactInquiry(ctx, q.ID); err != nil {
				t.Fatal(err)
			}
			seen := map[string]*persona.Event{}
			deadline := time.After(5 * time.Second)
			for seen["inquiry.redacted"] == nil {
				select {
				case ev := <-events:
					seen[ev.Name] = ev
				case err := <-errs:
					t.Fatalf("a delivery did not verify with the new secret: %v", err)
				case <-deadline:
					t.Fatalf("events so far %v, no inquiry.redacted", seen)
				}
			}
			if ev := seen["inquiry.approved"]; ev == nil {
				t.Errorf("no inquiry.approved among %d events", len(seen))
			} else if q := ev.Inquiry; !strings.HasPrefix(q.Name(), "Alexander") || !strings.HasSuffix(q.Name(), "Sample") ||
				q.ReferenceID != "usr_hooks_"+inflection || q.TemplateID != sandbox.TemplateKYC || q.UpdatedAt == nil {
				t.Errorf("approved event: name %q, reference %q, template %q, updated %v", q.Name(), q.ReferenceID, q.TemplateID, q.UpdatedAt)
			}
			if q := seen["inquiry.redacted"].Inquiry; q.RedactedAt == nil || q.Name() != "" || q.Status != persona.StatusApproved {
				t.Errorf("redacted event: redacted %v, name %q, status %q", q.RedactedAt, q.Name(), q.Status)
			}
		})
	}
}
