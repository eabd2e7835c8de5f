package persona

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Webhook is one of the environment's webhooks (GET /webhooks), with the settings that decide
// what its deliveries look like.
type Webhook struct {
	ID            string
	Status        string // enabled, disabled, ...
	URL           string
	APIVersion    string // the version its payloads are written in, whatever the client sends
	KeyInflection string // kebab, snake or camel
	EnabledEvents []string
	// RelationshipAllowlist is relationship-allowlist.state: include_all (the default, also
	// when Persona says nothing) or include_none, which leaves the template out.
	RelationshipAllowlist string
	// AttributesBlocklist names attributes (patterns) Persona leaves out of its payloads.
	AttributesBlocklist []string
	CreatedAt           *time.Time
}

// EnabledFor reports whether the webhook sends event name ("*" enables every event).
func (w *Webhook) EnabledFor(name string) bool {
	for _, e := range w.EnabledEvents {
		if e == "*" || e == name {
			return true
		}
	}
	return false
}

// ListWebhooks returns every webhook of the environment, following the pages.
func (c *Client) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	var out []Webhook
	var cursors CursorGuard
	after := ""
	for {
		q := url.Values{"page[size]": {"100"}}
		if after != "" {
			q.Set("page[after]", after)
		}
		d, err := c.do(ctx, call{method: http.MethodGet, path: "/webhooks", query: q})
		if err != nil {
			return nil, err
		}
		var items []resource
		if !isNull(d.Data) {
			if err := decodeJSON(d.Data, &items); err != nil {
				return nil, fmt.Errorf("persona: list webhooks: data is not a list: %w", err)
			}
		}
		for _, r := range items {
			out = append(out, webhookFromResource(r))
		}
		next := d.nextCursor()
		if next == "" || len(items) == 0 {
			return out, nil
		}
		if err := cursors.Follow(after, next); err != nil {
			return out, err
		}
		after = next
	}
}

func webhookFromResource(r resource) Webhook {
	var attrs map[string]json.RawMessage
	if !isNull(r.Attributes) {
		_ = decodeJSON(r.Attributes, &attrs)
	}
	attrs = kebabKeys(attrs)
	w := Webhook{
		ID: r.ID, Status: attrString(attrs, "status"), URL: attrString(attrs, "url"),
		APIVersion: attrString(attrs, "api-version"), KeyInflection: attrString(attrs, "api-key-inflection"),
		EnabledEvents: attrStrings(attrs, "enabled-events"), AttributesBlocklist: attrStrings(attrs, "api-attributes-blocklist"),
		CreatedAt: attrTime(attrs, "created-at"), RelationshipAllowlist: "include_all",
	}
	var allow map[string]json.RawMessage
	if raw, ok := attrs["relationship-allowlist"]; ok && decodeJSON(raw, &allow) == nil {
		if st := attrString(allow, "state"); st != "" {
			w.RelationshipAllowlist = st
		}
	}
	if w.KeyInflection == "" {
		w.KeyInflection = "kebab"
	}
	return w
}

// SameEndpoint reports whether a webhook URL points at endpoint (scheme and host compared
// without case, a trailing slash ignored).
func SameEndpoint(webhookURL, endpoint string) bool {
	a, err1 := url.Parse(strings.TrimSpace(webhookURL))
	b, err2 := url.Parse(strings.TrimSpace(endpoint))
	if err1 != nil || err2 != nil {
		return false
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host) &&
		strings.TrimRight(a.Path, "/") == strings.TrimRight(b.Path, "/")
}
