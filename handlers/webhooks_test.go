package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// eventBody is a Persona webhook event about an inquiry, shaped as Persona sends it.
func eventBody(evtID, inqID, name, status string, at time.Time) []byte {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	created := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	doc := map[string]any{"data": map[string]any{
		"type": "event", "id": evtID,
		"attributes": map[string]any{"name": name, "created-at": ts(at), "payload": map[string]any{
			"data": map[string]any{
				"type": "inquiry", "id": inqID,
				"attributes": map[string]any{
					"status": status, "reference-id": "ref-" + inqID, "created-at": ts(created), "updated-at": ts(at),
					"name-first": "Ada", "name-last": "Lovelace", "email-address": "ada@example.com",
					"fields": map[string]any{}, "expires-at": ts(created.Add(24 * time.Hour)),
				},
				"relationships": map[string]any{"inquiry-template": map[string]any{"data": map[string]any{"type": "inquiry-template", "id": sandbox.TemplateKYC}}},
			},
			"included": []any{},
		}},
	}}
	b, _ := json.Marshal(doc)
	return b
}

func (e *sandboxEnv) deliver(body []byte, signature string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.ts.URL+"/webhooks/persona", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if signature != "" {
		req.Header.Set("Persona-Signature", signature)
	}
	// No Sec-Fetch-Site or Origin: Persona's servers are not a browser.
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (e *sandboxEnv) counter(name string) int64 {
	e.t.Helper()
	st, err := e.db.WebhookStats(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return st.Counters[name].N
}

func (e *sandboxEnv) cachedStatus(id string) string {
	q, err := e.db.GetInquiry(context.Background(), id)
	if err != nil {
		return ""
	}
	return string(q.Status)
}

func TestWebhookSignatures(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	now := time.Now()
	body := eventBody("evt_sig1", "inq_sig1", "inquiry.created", "created", now)
	sign := func(secret string, at time.Time, b []byte) string { return persona.SignWebhook(secret, at, b) }
	tests := []struct {
		name      string
		body      []byte
		signature string
		status    int
		counter   string
	}{
		{"no signature", body, "", http.StatusUnauthorized, db.VerdictBadSignature},
		{"wrong secret", body, sign("wbhsec_someone_else", now, body), http.StatusUnauthorized, db.VerdictBadSignature},
		{"malformed header", body, "v1=nothex,t=yesterday", http.StatusUnauthorized, db.VerdictBadSignature},
		{"stale", body, sign(e.secret, now.Add(-10*time.Minute), body), http.StatusUnauthorized, db.VerdictOldSignature},
		{"body changed after signing", []byte(strings.Replace(string(body), "created", "approved", 1)), sign(e.secret, now, body), http.StatusUnauthorized, db.VerdictBadSignature},
		{"signed but not JSON", []byte("{nope"), sign(e.secret, now, []byte("{nope")), http.StatusBadRequest, db.VerdictMalformed},
		{"good", body, sign(e.secret, now, body), http.StatusOK, ""},
		// Persona rotating its secret sends two sets; one matching set is enough.
		{"rotation on Persona's side", eventBody("evt_sig2", "inq_sig2", "inquiry.created", "created", now),
			sign("wbhsec_new_unknown", now, eventBody("evt_sig2", "inq_sig2", "inquiry.created", "created", now)) + " " +
				sign(e.secret, now, eventBody("evt_sig2", "inq_sig2", "inquiry.created", "created", now)), http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := int64(0)
			if tt.counter != "" {
				before = e.counter(tt.counter)
			}
			res, text := e.deliver(tt.body, tt.signature)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d (%s), want %d", res.StatusCode, text, tt.status)
			}
			if tt.status == http.StatusUnauthorized && res.Header.Get("WWW-Authenticate") == "" {
				t.Error("a refusal without WWW-Authenticate")
			}
			if tt.counter != "" {
				eventually(t, "counted as "+tt.counter, 2*time.Second, func() bool { return e.counter(tt.counter) == before+1 })
			}
		})
	}
	eventually(t, "good events adopted", 2*time.Second, func() bool {
		return e.cachedStatus("inq_sig1") == "created" && e.cachedStatus("inq_sig2") == "created"
	})

	// Rotation on our side: the old and the new secret both pass.
	e.srv.cfg.WebhookSecrets = []string{"wbhsec_next", e.secret}
	b3 := eventBody("evt_sig3", "inq_sig1", "inquiry.started", "pending", now.Add(time.Second))
	if res, text := e.deliver(b3, sign("wbhsec_next", now, b3)); res.StatusCode != http.StatusOK {
		t.Fatalf("new secret: %d %s", res.StatusCode, text)
	}
	b4 := eventBody("evt_sig4", "inq_sig2", "inquiry.started", "pending", now.Add(time.Second))
	if res, text := e.deliver(b4, sign(e.secret, now, b4)); res.StatusCode != http.StatusOK {
		t.Fatalf("old secret during rotation: %d %s", res.StatusCode, text)
	}

	big := bytes.Repeat([]byte(" "), maxWebhookBody+10)
	if res, _ := e.deliver(big, sign(e.secret, now, big)); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", res.StatusCode)
	}

	// The Webhooks page tells admins what happened.
	e.addUser("admin@example.com", db.RoleAdmin, pw)
	admin := e.signIn("admin@example.com", pw)
	res, page := e.do(admin, "GET", "/webhooks", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("webhooks page: %d", res.StatusCode)
	}
	for _, want := range []string{"<h1>Webhooks</h1>", "Bad signature", "Signature too old", "evt_sig1", "/webhooks/persona"} {
		if !strings.Contains(page, want) {
			t.Errorf("webhooks page lacks %q", want)
		}
	}
	if _, nav := e.do(admin, "GET", "/inquiries", nil); !strings.Contains(nav, `href="/webhooks"`) {
		t.Error("no Webhooks link in the admin's navigation")
	}
}

// TestWebhookOrderAndDuplicates delivers one inquiry's events backwards and twice: the status
// ends at the newest event's and never moves back, and each verdict is counted.
func TestWebhookOrderAndDuplicates(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	t0 := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	steps := []struct{ evt, name, status string }{
		{"evt_o1", "inquiry.created", "created"},
		{"evt_o2", "inquiry.started", "pending"},
		{"evt_o3", "inquiry.completed", "completed"},
		{"evt_o4", "inquiry.approved", "approved"},
	}
	bodies := map[string][]byte{}
	for i, s := range steps {
		bodies[s.evt] = eventBody(s.evt, "inq_order", s.name, s.status, t0.Add(time.Duration(i)*time.Second))
	}
	for _, evt := range []string{"evt_o4", "evt_o3", "evt_o4", "evt_o2", "evt_o1", "evt_o3"} {
		res, text := e.deliver(bodies[evt], persona.SignWebhook(e.secret, time.Now(), bodies[evt]))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", evt, res.StatusCode, text)
		}
		if got := e.cachedStatus("inq_order"); got != "" && got != "approved" {
			t.Fatalf("after %s the status went back to %s", evt, got)
		}
	}
	eventually(t, "verdicts counted", 2*time.Second, func() bool {
		return e.counter(db.VerdictApplied) == 1 && e.counter(db.VerdictStale) == 3 && e.counter(db.VerdictDuplicate) == 2
	})
	// The first-ever event arrived last of all: still stale, the inquiry stays approved.
	if got := e.cachedStatus("inq_order"); got != "approved" {
		t.Fatalf("status %s, want approved", got)
	}
	q, _ := e.db.GetInquiry(context.Background(), "inq_order")
	if q.ReferenceID != "ref-inq_order" || q.Name != "Ada Lovelace" || q.TemplateID != sandbox.TemplateKYC {
		t.Errorf("adopted row: %+v", q)
	}
	if e.counter(db.VerdictApplied)+e.counter(db.VerdictStale) != 4 {
		t.Errorf("an event was applied twice")
	}
}

// TestWebhooksFromSandbox runs real flows with the sandbox sending every event twice and out
// of order: the cache ends where the sandbox is, for every inquiry, with nothing left behind.
func TestWebhooksFromSandbox(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{DuplicateWebhooks: true, OutOfOrderWebhooks: true}, nil)
	ctx := context.Background()
	var ids []string
	for i := range 12 {
		res, err := e.inq.Create(ctx, agentActor, createInput(fmt.Sprintf("live-%02d", i), i%2 == 0))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Inquiry.ID)
	}
	for i, id := range ids {
		switch i % 3 {
		case 0:
			noErr(t, e.sb.Complete(id, true))
		case 1:
			noErr(t, e.sb.Complete(id, false))
		}
	}
	eventually(t, "cache follows the sandbox", 30*time.Second, func() bool {
		for _, id := range ids {
			want, _ := e.sb.Inquiry(id)
			if e.cachedStatus(id) != want {
				return false
			}
		}
		return true
	})
	eventually(t, "duplicates counted, nothing pending", 5*time.Second, func() bool {
		st, _ := e.db.WebhookStats(ctx)
		return st.Counters[db.VerdictDuplicate].N > 0 && st.Pending == 0
	})
}

// TestPendingEventsReapplied stores an event without applying it (as a crash between the two
// steps would leave it) and checks that the reconciler's pass applies it.
func TestPendingEventsReapplied(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	ctx := context.Background()
	body := eventBody("evt_late", "inq_late", "inquiry.approved", "approved", time.Now())
	ev, err := persona.ParseEvent(body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.StoreWebhookEvents(ctx, []db.WebhookEvent{{ID: ev.ID, Name: ev.Name, InquiryID: ev.PayloadID,
		EventAt: ev.CreatedAt, ReceivedAt: time.Now(), Payload: string(ev.Payload)}}, nil); err != nil {
		t.Fatal(err)
	}
	if e.cachedStatus("inq_late") != "" {
		t.Fatal("applied too early")
	}
	res, err := e.inq.Reconcile(ctx, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied != 1 || e.cachedStatus("inq_late") != "approved" {
		t.Fatalf("applied %d, status %q", res.Applied, e.cachedStatus("inq_late"))
	}
}
