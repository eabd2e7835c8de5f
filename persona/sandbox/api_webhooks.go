package sandbox

// GET /webhooks: the environment's webhooks, here the one the sandbox sends to, with the
// settings Persona's dashboard keeps per webhook.

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"
)

// webhookEvents are the events the sandbox's webhook is enabled for: every one it sends.
var webhookEvents = []string{"inquiry.created", "inquiry.started", "inquiry.expired", "inquiry.completed",
	"inquiry.failed", "inquiry.marked-for-review", "inquiry.approved", "inquiry.declined",
	"inquiry.transitioned", "inquiry.redacted"}

// webhookCreated is when the sandbox's webhook was made (its seed date).
var webhookCreated = ts(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))

func (s *Sandbox) apiListWebhooks(c *apiCall) apiResult {
	url, _ := s.webhookTarget()
	data := []obj{}
	if url != "" {
		sh := s.webhookShapeNow()
		sum := sha256.Sum256([]byte(url))
		status := "enabled"
		data = append(data, obj{
			{"type", "webhook"},
			{"id", "wbh_" + hex.EncodeToString(sum[:])[:24]},
			{"attributes", obj{
				{"status", status},
				{"url", url},
				{"name", nil},
				{"description", nil},
				{"api-version", sh.version},
				{"api-key-inflection", sh.inflection},
				{"api-attributes-blocklist", []string{}},
				{"file-access-token-expires-in", 21600},
				{"enabled-events", webhookEvents},
				{"payload-filter", nil},
				{"relationship-allowlist", obj{{"state", "include_all"}}},
				{"created-at", webhookCreated},
			}},
		})
	}
	return apiResult{http.StatusOK, obj{{"data", data}, {"links", obj{{"prev", nil}, {"next", nil}}}}}
}
