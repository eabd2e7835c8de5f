package inquiry

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/linkdesk/linkdesk/persona"
)

// Each Persona webhook has settings of its own (API version, key inflection, enabled events,
// relationship allowlist, attribute blocklist) that decide what the console receives. The
// console reads them from GET /webhooks and says in words what it cannot use.

// NeededEvents are the inquiry events the cache follows: every status change and redaction.
var NeededEvents = []string{"inquiry.created", "inquiry.started", "inquiry.expired", "inquiry.completed",
	"inquiry.failed", "inquiry.marked-for-review", "inquiry.approved", "inquiry.declined", "inquiry.redacted"}

// usedAttributes are the payload attributes the console reads; a blocklist pattern that
// matches one of them takes it away.
var usedAttributes = []string{"status", "reference-id", "fields", "updated-at", "created-at", "name-first",
	"name-last", "email-address", "tags", "note", "redacted-at", "expires-at"}

// WebhookSettings is what Persona says about the webhook that sends to this console.
type WebhookSettings struct {
	Endpoint string // the console's webhook URL
	Found    bool
	Webhook  persona.Webhook // the first webhook pointing at Endpoint, when Found
	Others   int             // further webhooks pointing at Endpoint
	Warnings []string        // what the console cannot use, with what to change in Persona's dashboard
}

// CheckWebhookSettings reads Persona's webhooks and checks the one that points at endpoint.
func (s *Service) CheckWebhookSettings(ctx context.Context, endpoint string) (*WebhookSettings, error) {
	ctx, cancel := staffCtx(ctx)
	defer cancel()
	c, err := s.Client()
	if err != nil {
		return nil, err
	}
	hooks, err := c.ListWebhooks(ctx)
	if err != nil {
		return nil, fmt.Errorf("read Persona's webhooks: %w", err)
	}
	return checkWebhooks(hooks, endpoint), nil
}

func checkWebhooks(hooks []persona.Webhook, endpoint string) *WebhookSettings {
	ws := &WebhookSettings{Endpoint: endpoint}
	for _, h := range hooks {
		if !persona.SameEndpoint(h.URL, endpoint) {
			continue
		}
		if ws.Found {
			ws.Others++
			continue
		}
		ws.Found, ws.Webhook = true, h
	}
	if !ws.Found {
		ws.Warnings = append(ws.Warnings, "No webhook in Persona sends to "+endpoint+
			": add one in Persona's dashboard (Webhooks, Add webhook) with this URL, API version "+persona.DefaultVersion+
			" and the events "+strings.Join(NeededEvents, ", ")+". Until then the list learns of changes only from the periodic sync.")
		return ws
	}
	h := ws.Webhook
	const where = "in Persona's dashboard (Webhooks, this webhook)"
	if h.Status != "" && h.Status != "enabled" {
		ws.Warnings = append(ws.Warnings, "The webhook is "+h.Status+": enable it "+where+".")
	}
	if !slices.Contains(persona.SupportedVersions, h.APIVersion) {
		ws.Warnings = append(ws.Warnings, fmt.Sprintf("Its API version %q is not one Linkdesk reads (%s): set API version to %s %s.",
			h.APIVersion, strings.Join(persona.SupportedVersions, ", "), persona.DefaultVersion, where))
	}
	if !slices.Contains([]string{"kebab", "snake", "camel"}, h.KeyInflection) {
		ws.Warnings = append(ws.Warnings, fmt.Sprintf("Its key inflection %q is not kebab, snake or camel: set it to kebab %s.", h.KeyInflection, where))
	}
	var missing []string
	for _, e := range NeededEvents {
		if !h.EnabledFor(e) {
			missing = append(missing, e)
		}
	}
	if len(missing) > 0 {
		ws.Warnings = append(ws.Warnings, "It does not send "+strings.Join(missing, ", ")+": enable them under Enabled events "+where+
			"; until then the list learns of those changes only from the periodic sync.")
	}
	if h.RelationshipAllowlist == "include_none" {
		ws.Warnings = append(ws.Warnings, "It leaves relationships out (relationship allowlist: include none), so an inquiry made outside Linkdesk shows no template until the next sync: set the relationship allowlist to include all "+where+".")
	}
	var blocked []string
	for _, pat := range h.AttributesBlocklist {
		pat = strings.TrimPrefix(pat, "/data/attributes/")
		for _, a := range usedAttributes {
			if ok, _ := path.Match(pat, a); ok && !slices.Contains(blocked, a) {
				blocked = append(blocked, a)
			}
		}
	}
	if len(blocked) > 0 {
		ws.Warnings = append(ws.Warnings, "Its attribute blocklist leaves out "+strings.Join(blocked, ", ")+", which Linkdesk shows: remove those patterns from the attributes blocklist "+where+".")
	}
	if ws.Others > 0 {
		ws.Warnings = append(ws.Warnings, fmt.Sprintf("%d more webhook(s) send to this console, so every event arrives more than once (counted as duplicates): delete the extra ones in Persona's dashboard (Webhooks).", ws.Others))
	}
	return ws
}

// LogWebhookSettings checks the webhook settings once (at start) and logs what the console
// cannot use, or that they are fine.
func (s *Service) LogWebhookSettings(ctx context.Context, endpoint string) {
	ws, err := s.CheckWebhookSettings(ctx, endpoint)
	if err != nil {
		why := err.Error()
		if p := ProblemOf(err); p != nil {
			why = p.Words // e.g. a key without permission to list webhooks, in words
		}
		s.log.Warn("could not check the webhook's settings at Persona; the Webhooks page tries again", "endpoint", endpoint, "reason", why)
		return
	}
	for _, w := range ws.Warnings {
		s.log.Warn("webhook settings: " + w)
	}
	if ws.Found && len(ws.Warnings) == 0 {
		h := ws.Webhook
		s.log.Info("webhook settings checked", "webhook", h.ID, "api_version", h.APIVersion, "key_inflection", h.KeyInflection, "events", len(h.EnabledEvents))
	}
}
