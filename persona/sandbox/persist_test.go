package sandbox

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/internal/testkit"
)

// newDurableEnv is newEnv over a sandbox opened from file.
func newDurableEnv(t *testing.T, file string) *env {
	t.Helper()
	sb, err := Open(Options{StateFile: file})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { srv.Close(); sb.Close() })
	return &env{t: t, sb: sb, srv: srv, base: srv.URL, client: http.DefaultClient, key: DefaultAPIKey}
}

// A sandbox restarted on its state file answers as before the restart: the same inquiries
// (with their verifications, account, tags and one-time link), and a create repeated with its
// Idempotency-Key gets the first answer back instead of a second inquiry. Nothing is written at
// shutdown, so what the second sandbox reads is what the first wrote before answering.
func TestStateSurvivesRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sandbox.json")
	a := newDurableEnv(t, file)
	body := map[string]any{
		"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": TemplateKYC, "note": "first",
			"fields": map[string]any{"name-first": "Ada", "birthdate": "1990-01-02", "custom-score": 7}}},
		"meta": map[string]any{"auto-create-account-reference-id": "usr_1"},
	}
	created := a.call("POST", "/inquiries", body, "Idempotency-Key", "key-1")
	mustStatus(t, created, 201)
	done := created.str("data.id")
	mustStatus(t, a.call("POST", "/inquiries/"+done+"/perform-simulate-actions", map[string]any{"meta": map[string]any{"simulate-actions": []any{
		map[string]any{"type": "start_inquiry"},
		map[string]any{"type": "create_passed_verification", "data": map[string]any{"verification-template-id": vtmplGovernmentID}},
		map[string]any{"type": "complete_inquiry"},
	}}}), 200)
	open := a.create(TemplateKYC, "usr_2", nil)
	mustStatus(t, a.call("POST", "/inquiries/"+open+"/add-tag", map[string]any{"meta": map[string]any{"tag-name": "vip"}}), 200)
	otl := a.call("POST", "/inquiries/"+open+"/generate-one-time-link", nil)
	mustStatus(t, otl, 200)
	before := map[string][]byte{}
	for _, id := range []string{done, open} {
		before[id] = a.call("GET", "/inquiries/"+id+"?include=verifications,account", nil).raw
	}
	vid := a.call("GET", "/inquiries/"+done, nil).str("data.relationships.verifications.data.0.id")
	vBefore := a.call("GET", "/verifications/"+vid, nil).raw
	list := a.call("GET", "/inquiries", nil).raw
	a.sb.Close()
	a.srv.Close()

	b := newDurableEnv(t, file)
	for id, want := range before {
		if got := b.call("GET", "/inquiries/"+id+"?include=verifications,account", nil).raw; !bytes.Equal(got, want) {
			t.Errorf("inquiry %s after the restart:\n%s\nbefore:\n%s", id, got, want)
		}
	}
	if got := b.call("GET", "/verifications/"+vid, nil).raw; !bytes.Equal(got, vBefore) {
		t.Errorf("verification after the restart:\n%s\nbefore:\n%s", got, vBefore)
	}
	if got := b.call("GET", "/inquiries", nil).raw; !bytes.Equal(got, list) {
		t.Errorf("list after the restart:\n%s\nbefore:\n%s", got, list)
	}
	again := b.call("POST", "/inquiries", body, "Idempotency-Key", "key-1")
	mustStatus(t, again, 201)
	if again.str("data.id") != done || b.sb.Stats().IdempotentReplays != 1 {
		t.Errorf("repeated create after the restart made %s (first %s), replays %d", again.str("data.id"), done, b.sb.Stats().IdempotentReplays)
	}
	// The one-time link handed out before the restart still opens the flow.
	br := b.browser()
	link, err := url.Parse(otl.str("meta.one-time-link"))
	if err != nil || link.Query().Get("code") == "" {
		t.Fatalf("one-time link %q", otl.str("meta.one-time-link"))
	}
	br.open(link.RequestURI())
	if br.status != 200 {
		t.Errorf("one-time link after the restart: %d %s", br.status, br.url)
	}
	// New ids keep counting from where the first sandbox stopped: the list stays in creation order.
	third := b.create(TemplateKYC, "usr_3", nil)
	if first := b.call("GET", "/inquiries", nil).str("data.0.id"); first != third {
		t.Errorf("newest inquiry listed first: %s, want %s", first, third)
	}
}

// With HoldAnswers, a create is carried out and on disk, its answer never sent; a sandbox
// killed then (here: a second one opened on the same file) replays it for the same key.
func TestHeldAnswerIsDurable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sandbox.json")
	a := newDurableEnv(t, file)
	a.sb.SetKnobs(Knobs{HoldAnswers: 1})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // before the server's Close, which waits for the held request
	req, _ := http.NewRequestWithContext(ctx, "POST", a.base+"/api/v1/inquiries",
		bytes.NewReader([]byte(`{"data":{"attributes":{"inquiry-template-id":"`+TemplateKYC+`"}}}`)))
	req.Header.Set("Authorization", "Bearer "+DefaultAPIKey)
	req.Header.Set("Idempotency-Key", "held")
	errc := make(chan error, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	testkit.Eventually(t, "the answer held", 10*time.Second, func() bool { return a.sb.Stats().AnswersHeld == 1 })
	saved, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-errc; err == nil {
		t.Error("the held request got an answer")
	}

	copyFile := filepath.Join(t.TempDir(), "killed.json")
	if err := os.WriteFile(copyFile, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	c := newDurableEnv(t, copyFile) // the state as it was while the answer was held
	r := c.call("POST", "/inquiries", map[string]any{"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": TemplateKYC}}},
		"Idempotency-Key", "held")
	mustStatus(t, r, 201)
	if n := len(c.call("GET", "/inquiries", nil).get("data").([]any)); n != 1 || c.sb.Stats().InquiriesCreated != 0 {
		t.Errorf("after the restart: %d inquiries, %d created anew; want the held one replayed", n, c.sb.Stats().InquiriesCreated)
	}
}

// A state file that is not the sandbox's is refused in words, not taken for an empty state.
func TestStateFileUnreadable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sandbox.json")
	if err := os.WriteFile(file, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{StateFile: file}); err == nil {
		t.Fatal("opened a broken state file")
	} else {
		t.Log(err)
	}
}
