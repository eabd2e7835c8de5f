package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// verifySignature checks a Persona-Signature header independently of the
// sandbox's code: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">.
func verifySignature(t *testing.T, header, secret string, body []byte) {
	t.Helper()
	m := regexp.MustCompile(`^t=(\d+),v1=([0-9a-f]{64})$`).FindStringSubmatch(header)
	if m == nil {
		t.Fatalf("Persona-Signature %q has the wrong format", header)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%s.%s", m[1], body)
	if want := hex.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(want), []byte(m[2])) {
		t.Fatalf("signature does not verify")
	}
	ts, _ := strconv.ParseInt(m[1], 10, 64)
	if d := time.Since(time.Unix(ts, 0)); d < -time.Minute || d > time.Minute {
		t.Errorf("signature time %v away from now", d)
	}
}

func names(t *testing.T, rs []hookReq) []string {
	var out []string
	for _, r := range rs {
		out = append(out, eventName(t, r))
	}
	return out
}

func TestWebhookEvents(t *testing.T) {
	rc := newReceiver(t, nil)
	e := newEnv(t, Options{WebhookURL: rc.srv.URL, WebhookSecret: "wbhsec_test"})
	id := e.create(TemplateKYC, "hooked", map[string]any{"name-first": "Jane"})
	b := e.browser()
	b.open("/verify?inquiry-id=" + id)
	walk(t, b, true)

	want := []string{
		"inquiry.created", "inquiry.started", "inquiry.transitioned", "inquiry.transitioned",
		"inquiry.transitioned", "inquiry.completed", "inquiry.approved",
	}
	rc.waitFor(t, "7 events", func(rs []hookReq) bool { return len(rs) >= len(want) })
	e.waitSettled()
	rs := rc.all()
	if got := names(t, rs); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("events %v, want %v", got, want)
	}
	seen := map[string]bool{}
	var lastCreated string
	for i, r := range rs {
		verifySignature(t, r.header.Get("Persona-Signature"), "wbhsec_test", r.body)
		if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		if r.header.Get("Persona-Webhook-Attempts-Made") != "1" || r.header.Get("Persona-Webhook-Attempts-Left") != "7" {
			t.Errorf("attempt headers %q %q", r.header.Get("Persona-Webhook-Attempts-Made"), r.header.Get("Persona-Webhook-Attempts-Left"))
		}
		if _, err := strconv.ParseInt(r.header.Get("Persona-Webhook-First-Attempted-At"), 10, 64); err != nil {
			t.Errorf("Persona-Webhook-First-Attempted-At %q", r.header.Get("Persona-Webhook-First-Attempted-At"))
		}
		evID, _ := eventField(t, r, "data.id").(string)
		if eventField(t, r, "data.type") != "event" || !regexp.MustCompile(`^evt_[1-9A-HJ-NP-Za-km-z]{24}$`).MatchString(evID) || seen[evID] {
			t.Errorf("event %d: type %v id %q", i, eventField(t, r, "data.type"), evID)
		}
		seen[evID] = true
		created, _ := eventField(t, r, "data.attributes.created-at").(string)
		if !timeRe.MatchString(created) || created <= lastCreated {
			t.Errorf("event %d created-at %q not after %q", i, created, lastCreated)
		}
		lastCreated = created
		if eventField(t, r, "data.attributes.payload.data.type") != "inquiry" || eventField(t, r, "data.attributes.payload.data.id") != id {
			t.Errorf("event %d payload", i)
		}
		var hasTemplate bool
		for _, o := range eventField(t, r, "data.attributes.payload.included").([]any) {
			if jpath(o, "type") == "inquiry-template" && jpath(o, "attributes.name") == "KYC" {
				hasTemplate = true
			}
		}
		if !hasTemplate {
			t.Errorf("event %d: included has no inquiry-template", i)
		}
	}
	// Payloads are snapshots at the event's time.
	statuses := []string{}
	for _, r := range rs {
		statuses = append(statuses, eventField(t, r, "data.attributes.payload.data.attributes.status").(string))
	}
	if strings.Join(statuses, " ") != "created pending pending pending pending completed approved" {
		t.Errorf("payload statuses %v", statuses)
	}
	if got := eventField(t, rs[2], "data.attributes.payload.data.attributes.next-step-name"); got != "verification_government_id" {
		t.Errorf("transitioned next-step-name %v", got)
	}

	// API actions emit their events too.
	m := e.create(TemplateKYCManualReview, "", nil)
	e.sb.Complete(m, true)
	e.call("POST", "/inquiries/"+m+"/approve", nil)
	x := e.create(TemplateKYC, "", nil)
	e.call("POST", "/inquiries/"+x+"/expire", nil)
	rs = rc.waitFor(t, "more events", func(rs []hookReq) bool {
		n := names(t, rs)
		return strings.Contains(strings.Join(n, " "), "inquiry.marked-for-review") && n[len(n)-1] == "inquiry.expired"
	})
	got := strings.Join(names(t, rs[7:]), " ")
	if !strings.Contains(got, "inquiry.completed inquiry.marked-for-review inquiry.approved inquiry.created inquiry.expired") {
		t.Errorf("events %s", got)
	}
	// The sandbox counts a delivery once the receiver has answered, after the receiver saw it.
	e.waitSettled()
	if st := e.sb.Stats(); st.WebhooksDelivered != int64(len(rs)) || st.Events != int64(len(rs)) {
		t.Errorf("stats %+v, %d received", st, len(rs))
	}
}

func TestWebhookRetries(t *testing.T) {
	rc := newReceiver(t, func(n int) int {
		if n <= 3 {
			return []int{500, 302, 404}[n-1]
		}
		return 204
	})
	e := newEnv(t, Options{WebhookURL: rc.srv.URL, WebhookSecret: "s", RetryScale: 0.001})
	e.create(TemplateKYC, "", nil)
	rc.waitFor(t, "4 attempts", func(rs []hookReq) bool { return len(rs) >= 4 })
	e.waitSettled()
	rs := rc.all()
	if len(rs) != 4 {
		t.Fatalf("%d attempts, want 4 (stop after a 204)", len(rs))
	}
	first := rs[0].header.Get("Persona-Webhook-First-Attempted-At")
	evID := eventField(t, rs[0], "data.id")
	for i, r := range rs {
		made, left := r.header.Get("Persona-Webhook-Attempts-Made"), r.header.Get("Persona-Webhook-Attempts-Left")
		if made != strconv.Itoa(i+1) || left != strconv.Itoa(7-i) {
			t.Errorf("attempt %d: made %s left %s", i+1, made, left)
		}
		if r.header.Get("Persona-Webhook-First-Attempted-At") != first || eventField(t, r, "data.id") != evID {
			t.Errorf("attempt %d: a retry must be the same event", i+1)
		}
		verifySignature(t, r.header.Get("Persona-Signature"), "s", r.body)
	}
	// Scaled schedule: 3 s, 64 s, 729 s × 0.001.
	if gap := rs[2].at.Sub(rs[1].at); gap < 60*time.Millisecond {
		t.Errorf("second retry after %v, want ≥ 64 ms", gap)
	}
	if gap := rs[3].at.Sub(rs[2].at); gap < 700*time.Millisecond {
		t.Errorf("third retry after %v, want ≥ 729 ms", gap)
	}
	st := e.sb.Stats()
	if st.WebhookAttempts != 4 || st.WebhookFailures != 3 || st.WebhooksDelivered != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestWebhookGivesUpAfterEightAttempts(t *testing.T) {
	rc := newReceiver(t, func(int) int { return 503 })
	e := newEnv(t, Options{WebhookURL: rc.srv.URL, WebhookSecret: "s", RetryScale: 0.000001})
	e.create(TemplateKYC, "", nil)
	rc.waitFor(t, "8 attempts", func(rs []hookReq) bool { return len(rs) >= 8 })
	e.waitSettled()
	if n := len(rc.all()); n != 8 {
		t.Errorf("%d attempts, want 1 + 7 retries", n)
	}
	if last := rc.all()[7].header.Get("Persona-Webhook-Attempts-Left"); last != "0" {
		t.Errorf("last attempt: Attempts-Left %s", last)
	}
	if e.sb.Stats().WebhooksAbandoned != 1 {
		t.Errorf("stats %+v", e.sb.Stats())
	}
}

// TestWebhookTimeoutCountsAsFailure runs in a testing/synctest bubble: the receiver holds the
// first delivery until the sender gives up, and the 5 s delivery timeout passes in virtual time.
func TestWebhookTimeoutCountsAsFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rc := newMemReceiver(nil)
		hang := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc.ServeHTTP(w, r)
			if len(rc.all()) == 1 {
				<-r.Context().Done() // answer only after the sender has hung up
			}
		})
		sb := New(Options{WebhookURL: memReceiverURL, WebhookTransport: handlerTransport{hang}, RetryScale: 0.001})
		defer sb.Close()
		sb.mu.Lock()
		sb.createInquiry(createInput{tmpl: sb.tmplByID[TemplateKYC]})
		sb.mu.Unlock()
		rs := rc.waitFor(t, "retry after a timeout", func(rs []hookReq) bool { return len(rs) >= 2 })
		if d := rs[1].at.Sub(rs[0].at); d < webhookTimeout || d > webhookTimeout+time.Second {
			t.Errorf("retry %v after the first attempt, want just over %v", d, webhookTimeout)
		}
		if got := rs[1].header.Get("Persona-Webhook-Attempts-Made"); got != "2" {
			t.Errorf("second delivery: Attempts-Made %q, want 2 (the timed-out one counted)", got)
		}
	})
}

func TestSetWebhookLater(t *testing.T) {
	e := newEnv(t, Options{})
	e.create(TemplateKYC, "", nil) // no endpoint yet: skipped
	rc := newReceiver(t, nil)
	e.sb.SetWebhook(rc.srv.URL, "later")
	e.create(TemplateKYC, "", nil)
	rs := rc.waitFor(t, "one event", func(rs []hookReq) bool { return len(rs) >= 1 })
	verifySignature(t, rs[0].header.Get("Persona-Signature"), "later", rs[0].body)
	e.waitSettled()
	if n := len(rc.all()); n != 1 {
		t.Errorf("%d events, want 1", n)
	}
	if e.sb.Stats().WebhooksSkipped != 1 {
		t.Errorf("stats %+v", e.sb.Stats())
	}
}

// TestEventBeforeEndpointIsNotSent: an event that happened while no endpoint
// was set is not sent to one set later, even when it is still behind another
// delivery in the queue (the sender is held on the first event meanwhile).
func TestEventBeforeEndpointIsNotSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rc := newMemReceiver(nil)
		release := make(chan struct{})
		held := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc.ServeHTTP(w, r)
			if len(rc.all()) == 1 {
				<-release
			}
		})
		sb := New(Options{WebhookURL: memReceiverURL, WebhookTransport: handlerTransport{held}})
		defer sb.Close()
		create := func() {
			sb.mu.Lock()
			sb.createInquiry(createInput{tmpl: sb.tmplByID[TemplateKYC]})
			sb.mu.Unlock()
		}
		create()
		rc.waitFor(t, "first event", func(rs []hookReq) bool { return len(rs) == 1 })
		sb.SetWebhook("", "")
		create() // no endpoint now: never sent
		sb.SetWebhook(memReceiverURL, "later")
		close(release)
		create()
		rs := rc.waitFor(t, "the event after the endpoint", func(rs []hookReq) bool { return len(rs) >= 2 })
		synctest.Wait()
		if n := len(rc.all()); n != 2 {
			t.Fatalf("%d events delivered, want 2 (the one with no endpoint skipped)", n)
		}
		verifySignature(t, rs[1].header.Get("Persona-Signature"), "later", rs[1].body)
		if st := sb.Stats(); st.WebhooksSkipped != 1 || st.WebhooksDelivered != 2 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestCloseStopsDeliveries runs in a testing/synctest bubble, so "nothing
// more arrives" is checked over the whole (virtual) retry schedule.
func TestCloseStopsDeliveries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rc := newMemReceiver(func(int) int { return 500 })
		sb := New(Options{WebhookURL: memReceiverURL, WebhookTransport: handlerTransport{rc}, RetryScale: 0.01})
		sb.mu.Lock()
		for range 3 {
			sb.createInquiry(createInput{tmpl: sb.tmplByID[TemplateKYC]})
		}
		sb.mu.Unlock()
		rc.waitFor(t, "first attempts", func(rs []hookReq) bool { return len(rs) >= 3 })
		done := make(chan struct{})
		go func() { sb.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not return")
		}
		n := len(rc.all())
		var schedule time.Duration
		for _, d := range retrySchedule {
			schedule += d
		}
		time.Sleep(schedule) // virtual: every retry would have been due by now
		synctest.Wait()
		if len(rc.all()) != n {
			t.Errorf("deliveries after Close")
		}
	})
}
