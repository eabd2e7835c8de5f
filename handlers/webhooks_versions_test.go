package handlers

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/internal/testkit"
	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// versionedEvent is a webhook event about an inquiry as a webhook on another version or key
// inflection sends it. keys turns a kebab key into the webhook's inflection; attrs are the
// inquiry's attributes (kebab keys, turned by keys; fields' keys are the caller's).
func versionedEvent(evtID, inqID, name string, at time.Time, keys func(string) string, attrs map[string]any) []byte {
	ts := at.UTC().Format("2006-01-02T15:04:05.000Z")
	a := map[string]any{}
	for k, v := range attrs {
		a[keys(k)] = v
	}
	doc := map[string]any{"data": map[string]any{
		"type": "event", "id": evtID,
		"attributes": map[string]any{"name": name, keys("created-at"): ts, "payload": map[string]any{
			"data": map[string]any{
				"type": "inquiry", "id": inqID, "attributes": a,
				"relationships": map[string]any{keys("inquiry-template"): map[string]any{"data": map[string]any{"type": keys("inquiry-template"), "id": sandbox.TemplateKYC}}},
			},
		}},
	}}
	b, _ := json.Marshal(doc)
	return b
}

func kebab(k string) string { return k }
func snake(k string) string { return strings.ReplaceAll(k, "-", "_") }
func camel(k string) string {
	parts := strings.Split(k, "-")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}

func field(v any) map[string]any { return map[string]any{"type": "string", "value": v} }

func (e *sandboxEnv) cached(id string) *db.Inquiry {
	e.t.Helper()
	q, err := e.db.GetInquiry(context.Background(), id)
	if err != nil {
		e.t.Fatalf("cached %s: %v", id, err)
	}
	return q
}

// TestWebhook20251027KeepsCachedPII: a webhook on 2025-10-27 sends no top-level PII and keeps
// fields' keys in their configured (snake) form. The console once answered 200 and wiped the
// cached email and name. Now the status is applied and nothing the cache holds is blanked.
func TestWebhook20251027KeepsCachedPII(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	t0 := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	first := eventBody("evt_v1a", "inq_v1", "inquiry.completed", "completed", t0)
	if res, text := e.deliver(first, persona.SignWebhook(e.secret, time.Now(), first)); res.StatusCode != http.StatusOK {
		t.Fatalf("2023-01-05 event: %d %s", res.StatusCode, text)
	}
	eventually(t, "first event applied", 5*time.Second, func() bool { return e.cachedStatus("inq_v1") == "completed" })

	t1 := t0.Add(10 * time.Second)
	created := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC).Format(time.RFC3339)
	for _, tc := range []struct {
		name   string
		evt    string
		status string
		fields map[string]any
	}{
		{"fields in snake case", "evt_v1b", "approved", map[string]any{"name_first": field("Ada"), "name_last": field("Lovelace"), "email_address": field("ada@example.com")}},
		{"fields absent", "evt_v1c", "approved", map[string]any{}},
		{"fields null", "evt_v1d", "approved", map[string]any{"name_first": field(nil), "email_address": field(nil)}},
	} {
		t1 = t1.Add(time.Second)
		body := versionedEvent(tc.evt, "inq_v1", "inquiry."+tc.status, t1, kebab, map[string]any{
			"status": tc.status, "reference-id": "ref-inq_v1", "created-at": created, "updated-at": t1.Format(time.RFC3339Nano),
			"fields": tc.fields,
		})
		if res, text := e.deliver(body, persona.SignWebhook(e.secret, time.Now(), body)); res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.name, res.StatusCode, text)
		}
		eventually(t, tc.name+" applied", 5*time.Second, func() bool {
			evs, _ := e.db.RecentWebhookEvents(context.Background(), 10)
			for _, ev := range evs {
				if ev.ID == tc.evt {
					return ev.Verdict == db.VerdictApplied
				}
			}
			return false
		})
		q := e.cached("inq_v1")
		if q.Status != "approved" || q.Email != "ada@example.com" || q.Name != "Ada Lovelace" || q.Fields["name-first"] != "Ada" {
			t.Errorf("%s: cached status %q, email %q, name %q, name-first %q; want approved, ada@example.com, Ada Lovelace, Ada",
				tc.name, q.Status, q.Email, q.Name, q.Fields["name-first"])
		}
	}
}

// TestWebhookOtherInflectionsApplied: a webhook set to snake or camel keys (on 2023-01-05,
// which inflects fields' keys too) was stored but never applied: no status, no name.
func TestWebhookOtherInflectionsApplied(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	for _, tc := range []struct {
		name string
		keys func(string) string
	}{{"snake", snake}, {"camel", camel}} {
		id := "inq_" + tc.name
		body := versionedEvent("evt_"+tc.name, id, "inquiry.approved", at, tc.keys, map[string]any{
			"status": "approved", "reference-id": "ref-" + tc.name, "created-at": at.Add(-time.Hour).Format(time.RFC3339),
			"updated-at": at.Format(time.RFC3339Nano), "name-first": "Ada", "name-last": "Lovelace", "email-address": "ada@example.com",
			"fields": map[string]any{tc.keys("name-first"): field("Ada"), tc.keys("email-address"): field("ada@example.com"),
				tc.keys("address-street-1"): field("1 Main St")},
		})
		if res, text := e.deliver(body, persona.SignWebhook(e.secret, time.Now(), body)); res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.name, res.StatusCode, text)
		}
		eventually(t, tc.name+" applied", 5*time.Second, func() bool { return e.cachedStatus(id) == "approved" })
		q := e.cached(id)
		if q.ReferenceID != "ref-"+tc.name || q.Email != "ada@example.com" || q.Name != "Ada Lovelace" ||
			q.TemplateID != sandbox.TemplateKYC || q.Fields["address-street-1"] != "1 Main St" || q.CreatedAt.IsZero() {
			t.Errorf("%s: cached %+v", tc.name, q)
		}
	}
}

// TestWebhookRefusesMalformedStatusAndDates: a signed event whose inquiry status is unknown,
// empty or 20 KB long, or whose dates cannot be read (year 1, garbage), was stored and applied
// as if it were news. It is refused with 400 "malformed" and words, like a bad id, and nothing
// of it is stored.
func TestWebhookRefusesMalformedStatusAndDates(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	now := time.Now()
	good := func(evt string) map[string]any {
		return map[string]any{"status": "completed", "reference-id": "ref-" + evt, "created-at": now.Add(-time.Hour).UTC().Format(time.RFC3339),
			"updated-at": now.UTC().Format(time.RFC3339)}
	}
	with := func(evt, key string, v any) []byte {
		a := good(evt)
		if v == nil {
			delete(a, key)
		} else {
			a[key] = v
		}
		return versionedEvent(evt, "inq_"+strings.TrimPrefix(evt, "evt_"), "inquiry.completed", now, kebab, a)
	}
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"unknown status", with("evt_m1", "status", "teleported"), `status "teleported"`},
		{"empty status", with("evt_m2", "status", ""), "no status"},
		{"no status", with("evt_m3", "status", nil), "no status"},
		{"huge status", with("evt_m4", "status", strings.Repeat("x", 20<<10)), "status"},
		{"updated-at in year 1", with("evt_m5", "updated-at", "0001-01-01T00:00:00Z"), "updated-at"},
		{"created-at garbage", with("evt_m6", "created-at", "yesterday"), "created-at"},
		{"event created-at in year 1", versionedEvent("evt_m7", "inq_m7", "inquiry.completed", time.Time{}, kebab, good("evt_m7")), "created-at"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, text := e.deliver(tc.body, persona.SignWebhook(e.secret, time.Now(), tc.body))
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d (%.200s), want 400", res.StatusCode, text)
			}
			if !strings.Contains(text, "signature accepted, but the event is malformed") || !strings.Contains(text, tc.want) {
				t.Errorf("answer %.300q does not say why (%s)", text, tc.want)
			}
			if len(text) > 1000 {
				t.Errorf("answer is %d bytes: it should not echo the whole value", len(text))
			}
		})
	}
	okBody := with("evt_mgood", "status", "completed")
	if res, text := e.deliver(okBody, persona.SignWebhook(e.secret, time.Now(), okBody)); res.StatusCode != http.StatusOK {
		t.Fatalf("good event: %d %s", res.StatusCode, text)
	}
	eventually(t, "good event applied", 5*time.Second, func() bool { return e.cachedStatus("inq_mgood") == "completed" })
	if n := e.counter(db.VerdictMalformed); n != int64(len(tests)) {
		t.Errorf("malformed counted %d times, want %d", n, len(tests))
	}
	if n := e.inquiryCount(); n != 1 {
		t.Errorf("%d inquiries cached, want only the good one", n)
	}
}

// TestWebhooksPageShowsPersonaSettings: the Webhooks page reads Persona's webhook list and shows
// the settings of the webhook that sends to this console, or says in words (on the page and in
// the log) that none does and what to set up in Persona's dashboard.
func TestWebhooksPageShowsPersonaSettings(t *testing.T) {
	logs := &testkit.Logs{}
	e := newSandboxEnvWith(t, sandbox.Knobs{}, nil, wiring{log: slog.New(slog.NewTextHandler(logs, nil))})
	pw := "admin password 123"
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	admin := e.signIn("admin@example.com", pw)
	res, page := e.do(admin, "GET", "/webhooks", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("webhooks page: %d", res.StatusCode)
	}
	for _, want := range []string{"Settings at Persona", "API version", "<dd>2023-01-05</dd>", "<dd>kebab</dd>", "inquiry.approved", "Include all",
		"Linkdesk reads everything this webhook sends."} {
		if !strings.Contains(page, want) {
			t.Errorf("webhooks page lacks %q", want)
		}
	}

	// The sandbox's webhook now sends elsewhere: no webhook at Persona points here.
	e.sb.SetWebhook("https://elsewhere.example/hook", e.secret)
	_, page = e.do(admin, "GET", "/webhooks", nil)
	want := "No webhook in Persona sends to " + e.ts.URL + "/webhooks/persona: add one in Persona&#39;s dashboard"
	if !strings.Contains(page, want) {
		t.Errorf("webhooks page lacks %q", want)
	}
	if !strings.Contains(logs.String(), "webhook settings: No webhook in Persona sends to") {
		t.Errorf("no warning in the log:\n%s", logs.String())
	}
}

// TestSandboxWebhooksOfEveryVersion: the sandbox's own signed webhooks, on every version and
// key inflection Persona offers a webhook, for an inquiry the console created and cached: every
// status is applied and nothing cached is blanked (the email was wiped on 2025-10-27 before).
func TestSandboxWebhooksOfEveryVersion(t *testing.T) {
	for _, version := range sandbox.Versions {
		for _, inflection := range sandbox.Inflections {
			t.Run(version+"/"+inflection, func(t *testing.T) {
				e := newSandboxEnvWith(t, sandbox.Knobs{}, nil, wiring{sandbox: func(o *sandbox.Options) {
					o.WebhookVersion, o.WebhookKeyInflection = version, inflection
				}})
				e.addUser("agent@example.com", db.RoleAgent, pw)
				c := e.signIn("agent@example.com", pw)
				form := alexanderForm(strings.Repeat("a", 32))
				form.Set("email-address", "alexander@example.com")
				res, _ := e.do(c, "POST", "/inquiries", form)
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("create: %d", res.StatusCode)
				}
				id, _, _ := strings.Cut(strings.TrimPrefix(res.Header.Get("Location"), "/inquiries/"), "#")
				if err := e.sb.Complete(id, true); err != nil {
					t.Fatal(err)
				}
				eventually(t, "approved by webhook", 5*time.Second, func() bool { return e.cachedStatus(id) == "approved" })
				e.sb.Close() // every delivery made; the rest is what the cache holds
				q := e.cached(id)
				if q.Email != "alexander@example.com" || q.Name != "Alexander Sample" || q.ReferenceID != "usr_ABC123" ||
					q.TemplateID != sandbox.TemplateKYC || q.Fields["birthdate"] != "1977-08-31" {
					t.Errorf("cached after the webhooks: email %q, name %q, reference %q, template %q, fields %v",
						q.Email, q.Name, q.ReferenceID, q.TemplateID, q.Fields)
				}
				if n := e.counter(db.VerdictMalformed); n != 0 {
					t.Errorf("%d deliveries refused as malformed", n)
				}
			})
		}
	}
}
