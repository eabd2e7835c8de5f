package mail

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/internal/testkit"
)

// A held message is read but neither stored nor answered; when its client hangs up it is
// discarded, and the client's resend is stored once.
func TestCatcherHoldData(t *testing.T) {
	dir := t.TempDir()
	c, err := StartCatcherDir("127.0.0.1:0", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	s := newTestSender(t, c)
	msg := Message{To: "pat@example.com", Subject: "Verify", Text: "x", MessageID: "<held-1@acme.example>"}

	c.SetHoldData(1)
	ctx, hangUp := context.WithCancel(context.Background())
	sent := make(chan error, 1)
	go func() { sent <- s.Send(ctx, msg) }()
	testkit.Eventually(t, "the message held", 5*time.Second, func() bool { return c.DataHeld() == 1 })
	select {
	case err := <-sent:
		t.Fatalf("the send returned while its message was held: %v", err)
	default:
	}
	if n, kept := c.Count(), mustReadCaught(t, dir); n != 0 || len(kept) != 0 {
		t.Fatalf("while held: count %d, %d on disk; want none", n, len(kept))
	}

	hangUp() // the client gives up: the transaction was never finished
	if err := <-sent; err == nil {
		t.Fatal("the send of a held message succeeded")
	}
	testkit.Eventually(t, "the held message let go", 5*time.Second, func() bool { return c.DataHeld() == 0 })
	if n := c.Count(); n != 0 {
		t.Fatalf("after the hang-up: count %d, want 0 (discarded)", n)
	}

	if err := s.Send(context.Background(), msg); err != nil { // the resend; the hold is used up
		t.Fatalf("resend: %v", err)
	}
	kept := mustReadCaught(t, dir)
	if c.Count() != 1 || len(kept) != 1 || kept[0].MessageID != msg.MessageID {
		t.Fatalf("after the resend: count %d, on disk %d; want the message once", c.Count(), len(kept))
	}
}

func mustReadCaught(t *testing.T, dir string) []Caught {
	t.Helper()
	ms, err := ReadCaught(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// The admin listener sets hold-data and reports what is caught and held; bad input is refused
// in words; it listens on loopback only.
func TestCatcherAdmin(t *testing.T) {
	c := newTestCatcher(t)
	srv := httptest.NewServer(c.AdminHandler())
	t.Cleanup(srv.Close)
	post := func(body string) (int, string) {
		t.Helper()
		res, err := http.Post(srv.URL+"/knobs", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		json.NewDecoder(res.Body).Decode(&out)
		b, _ := json.Marshal(out)
		return res.StatusCode, string(b)
	}
	stats := func() CatcherStats {
		t.Helper()
		res, err := http.Get(srv.URL + "/stats")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var st CatcherStats
		if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}

	for body, want := range map[string]string{
		`{"hold-data": -1}`: "must not be negative",
		`{"hold-dta": 1}`:   "unknown field",
		`[1]`:               "JSON object",
	} {
		if code, out := post(body); code != http.StatusBadRequest || !strings.Contains(out, want) {
			t.Errorf("POST %s: %d %s; want 400 with %q", body, code, out, want)
		}
	}
	if code, out := post(`{"hold-data": 1}`); code != http.StatusOK || out != `{"hold-data":1}` {
		t.Fatalf("POST hold-data 1: %d %s", code, out)
	}

	s := newTestSender(t, c)
	ctx, hangUp := context.WithCancel(context.Background())
	sent := make(chan error, 1)
	go func() { sent <- s.Send(ctx, Message{To: "pat@example.com", Subject: "Hi", Text: "x"}) }()
	testkit.Eventually(t, "held, seen in /stats", 5*time.Second, func() bool { return stats() == CatcherStats{Caught: 0, Held: 1} })
	hangUp()
	<-sent
	if err := s.Send(context.Background(), Message{To: "pat@example.com", Subject: "Hi", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "caught once, none held", 5*time.Second, func() bool { return stats() == CatcherStats{Caught: 1, Held: 0} })

	if _, err := listenAdmin("0.0.0.0:0"); err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("admin on 0.0.0.0: %v; want refused as not loopback", err)
	}
	if err := RunCatcher(context.Background(), "127.0.0.1:0", "", "0.0.0.0:0", nil); err == nil {
		t.Error("RunCatcher with a non-loopback admin address did not fail")
	}
}
