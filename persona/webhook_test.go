package persona

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// hmacHex signs independently of the package: HMAC-SHA256("<t>.<body>"), lowercase hex.
func hmacHex(secret string, t int64, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(fmt.Sprintf("%d.%s", t, body)))
	return hex.EncodeToString(m.Sum(nil))
}

func TestVerifySignature(t *testing.T) {
	const (
		body   = `{"data":{"type":"event","id":"evt_1","attributes":{"name":"inquiry.completed"}}}`
		oldSec = "wbhsec_old"
		newSec = "wbhsec_new"
	)
	now := time.Unix(1709686052, 0)
	ts := now.Unix()
	sig := func(secret string, t int64) string { return fmt.Sprintf("t=%d,v1=%s", t, hmacHex(secret, t, body)) }
	rotation := sig(newSec, ts) + " " + sig(oldSec, ts)

	tests := []struct {
		name      string
		header    string
		body      string // defaults to body
		secrets   []string
		tolerance time.Duration
		want      error
	}{
		{"valid", sig(oldSec, ts), "", []string{oldSec}, 0, nil},
		{"uppercase hex tolerated", fmt.Sprintf("t=%d,v1=%s", ts, strings.ToUpper(hmacHex(oldSec, ts, body))), "", []string{oldSec}, 0, nil},
		{"stray space after a comma", fmt.Sprintf("t=%d, v1=%s", ts, hmacHex(oldSec, ts, body)), "", []string{oldSec}, 0, nil},
		{"rotation without space-separated t", fmt.Sprintf("t=%d,v1=%s,v1=%s", ts, hmacHex(newSec, ts, body), hmacHex(oldSec, ts, body)), "", []string{oldSec}, 0, nil},
		{"order v1 before t", fmt.Sprintf("v1=%s,t=%d", hmacHex(oldSec, ts, body), ts), "", []string{oldSec}, 0, nil},
		{"unknown v0 ignored", fmt.Sprintf("t=%d,v0=abc,v1=%s", ts, hmacHex(oldSec, ts, body)), "", []string{oldSec}, 0, nil},
		{"rotation, we know the old secret", rotation, "", []string{oldSec}, 0, nil},
		{"rotation, we know the new secret", rotation, "", []string{newSec}, 0, nil},
		{"rotation, we know both", rotation, "", []string{newSec, oldSec}, 0, nil},
		{"second of our secrets matches", sig(oldSec, ts), "", []string{"", newSec, oldSec}, 0, nil},
		{"rotation, neither secret", rotation, "", []string{"wbhsec_other"}, 0, ErrSignatureMismatch},
		{"wrong secret", sig(newSec, ts), "", []string{oldSec}, 0, ErrSignatureMismatch},
		{"body changed", sig(oldSec, ts), body + " ", []string{oldSec}, 0, ErrSignatureMismatch},
		{"timestamp changed", fmt.Sprintf("t=%d,v1=%s", ts+1, hmacHex(oldSec, ts, body)), "", []string{oldSec}, 0, ErrSignatureMismatch},
		{"truncated signature", sig(oldSec, ts)[:40], "", []string{oldSec}, 0, ErrSignatureMalformed},
		{"stale, default 300 s", sig(oldSec, ts-301), "", []string{oldSec}, 0, ErrSignatureStale},
		{"just inside default", sig(oldSec, ts-300), "", []string{oldSec}, 0, nil},
		{"from the future", sig(oldSec, ts+301), "", []string{oldSec}, 0, ErrSignatureStale},
		{"custom tolerance", sig(oldSec, ts-3000), "", []string{oldSec}, time.Hour, nil},
		{"custom tolerance exceeded", sig(oldSec, ts-30), "", []string{oldSec}, 10 * time.Second, ErrSignatureStale},
		{"negative tolerance skips the check", sig(oldSec, ts-1e6), "", []string{oldSec}, -1, nil},
		{"stale and wrong is a mismatch", sig(newSec, ts-1000), "", []string{oldSec}, 0, ErrSignatureMismatch},
		{"one stale set, one fresh", sig(oldSec, ts-1000) + " " + sig(oldSec, ts), "", []string{oldSec}, 0, nil},
		{"empty header", "", "", []string{oldSec}, 0, ErrSignatureMalformed},
		{"garbage", "hello world", "", []string{oldSec}, 0, ErrSignatureMalformed},
		{"no t", "v1=" + hmacHex(oldSec, ts, body), "", []string{oldSec}, 0, ErrSignatureMalformed},
		{"no v1", fmt.Sprintf("t=%d", ts), "", []string{oldSec}, 0, ErrSignatureMalformed},
		{"t not a number", "t=abc,v1=" + hmacHex(oldSec, ts, body), "", []string{oldSec}, 0, ErrSignatureMalformed},
		{"v1 not hex", fmt.Sprintf("t=%d,v1=zz", ts), "", []string{oldSec}, 0, ErrSignatureMalformed},
		{"no secrets", sig(oldSec, ts), "", nil, 0, ErrNoSecrets},
		{"only empty secrets", sig(oldSec, ts), "", []string{""}, 0, ErrNoSecrets},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.body
			if b == "" {
				b = body
			}
			err := VerifySignature(tc.header, []byte(b), tc.secrets, tc.tolerance, now)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("VerifySignature = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSignWebhook(t *testing.T) {
	at := time.Unix(1700000000, 999)
	body := []byte(`{"a":1}`)
	got := SignWebhook("wbhsec_x", at, body)
	want := "t=1700000000,v1=" + hmacHex("wbhsec_x", 1700000000, `{"a":1}`)
	if got != want {
		t.Errorf("SignWebhook = %q, want %q", got, want)
	}
	if err := VerifySignature(got, body, []string{"wbhsec_x"}, 0, at.Add(time.Minute)); err != nil {
		t.Errorf("own signature rejected: %v", err)
	}
}

const eventInquiryCompleted = `{
  "data": {
    "type": "event",
    "id": "evt_o9byQRbjygu76Jbtea9wuJ1boP7a",
    "attributes": {
      "name": "inquiry.completed",
      "created-at": "2024-02-15T23:48:17.732Z",
      "payload": {
        "data": {"type": "inquiry", "id": "inq_ABC",
          "attributes": {"status": "completed", "reference-id": "user_1", "name-first": "Jane", "name-last": "Doe",
            "updated-at": "2024-02-15T23:48:17.000Z", "completed-at": "2024-02-15T23:48:16.000Z",
            "fields": {"name-first": {"type": "string", "value": "Jane"}}},
          "relationships": {"inquiry-template": {"data": {"type": "inquiry-template", "id": "itmpl_T"}},
            "verifications": {"data": [{"type": "verification/government-id", "id": "ver_1"}, {"type": "verification/selfie", "id": "ver_2"}]},
            "sessions": {"data": [{"type": "inquiry-session", "id": "iqse_1"}]}}},
        "included": [{"type": "inquiry-session", "id": "iqse_1", "attributes": {}},
                     {"type": "inquiry-template", "id": "itmpl_T", "attributes": {"name": "KYC", "status": "active"}}]
      }
    }
  }
}`

func TestParseEvent(t *testing.T) {
	ev, err := ParseEvent([]byte(eventInquiryCompleted))
	if err != nil {
		t.Fatal(err)
	}
	wantAt := time.Date(2024, 2, 15, 23, 48, 17, 732e6, time.UTC)
	if ev.ID != "evt_o9byQRbjygu76Jbtea9wuJ1boP7a" || ev.Name != "inquiry.completed" || !ev.CreatedAt.Equal(wantAt) ||
		ev.PayloadType != "inquiry" || ev.PayloadID != "inq_ABC" || len(ev.Payload) == 0 {
		t.Errorf("event = %+v", ev)
	}
	q := ev.Inquiry
	if q == nil {
		t.Fatal("no inquiry decoded")
	}
	if q.ID != "inq_ABC" || q.Status != StatusCompleted || q.ReferenceID != "user_1" || q.TemplateID != "itmpl_T" ||
		q.TemplateName != "KYC" || q.Name() != "Jane Doe" || fmt.Sprint(q.VerificationIDs) != "[ver_1 ver_2]" ||
		fmt.Sprint(q.SessionIDs) != "[iqse_1]" || q.CompletedAt == nil {
		t.Errorf("inquiry = %+v", q)
	}

	tests := []struct {
		name    string
		body    string
		wantErr bool
		check   func(t *testing.T, ev *Event)
	}{
		{name: "verification payload", body: `{"data":{"type":"event","id":"evt_2","attributes":{"name":"verification.passed",
			"created-at":"2024-02-15T23:48:17.732Z","payload":{"data":{"type":"verification/selfie","id":"ver_9"}}}}}`,
			check: func(t *testing.T, ev *Event) {
				if ev.Inquiry != nil || ev.PayloadType != "verification/selfie" || ev.PayloadID != "ver_9" {
					t.Errorf("event = %+v", ev)
				}
			}},
		{name: "unknown name, no payload, no time", body: `{"data":{"id":"evt_3","attributes":{"name":"something.new"}}}`,
			check: func(t *testing.T, ev *Event) {
				if ev.Name != "something.new" || !ev.CreatedAt.IsZero() || ev.Inquiry != nil {
					t.Errorf("event = %+v", ev)
				}
			}},
		{name: "odd tags kept", body: `{"data":{"id":"evt_4","attributes":{"name":"inquiry.transitioned",
			"payload":{"data":{"type":"inquiry","id":"inq_1","attributes":{"status":"pending","tags":[1,"a",null]}}}}}}`,
			check: func(t *testing.T, ev *Event) {
				if ev.Inquiry.Status != "pending" || fmt.Sprint(ev.Inquiry.Tags) != "[1 a]" {
					t.Errorf("inquiry = %+v", ev.Inquiry)
				}
			}},
		// The console cannot show or act on a status it does not know: refused, so Persona retries.
		{name: "unknown status refused", body: `{"data":{"id":"evt_4","attributes":{"name":"inquiry.transitioned",
			"payload":{"data":{"type":"inquiry","id":"inq_1","attributes":{"status":"brand_new_status"}}}}}}`, wantErr: true},
		{name: "snake keys", body: `{"data":{"id":"evt_5","attributes":{"name":"inquiry.approved","created_at":"2026-01-02T03:04:05.000Z",
			"payload":{"data":{"type":"inquiry","id":"inq_1","attributes":{"status":"approved","reference_id":"r1","fields":{"email_address":{"type":"string","value":"a@b.example"}}},
			"relationships":{"inquiry_template":{"data":{"type":"inquiry_template","id":"itmpl_A"}}}}}}}}`,
			check: func(t *testing.T, ev *Event) {
				if ev.CreatedAt.IsZero() || ev.Inquiry.ReferenceID != "r1" || ev.Inquiry.TemplateID != "itmpl_A" || ev.Inquiry.Field("email-address") != "a@b.example" {
					t.Errorf("event = %+v, inquiry = %+v", ev, ev.Inquiry)
				}
			}},
		{name: "malformed JSON", body: `{"data":`, wantErr: true},
		{name: "trailing garbage", body: `{"data":{"id":"evt_1","attributes":{"name":"x"}}} {}`, wantErr: true},
		{name: "not an object", body: `[]`, wantErr: true},
		{name: "null", body: `null`, wantErr: true},
		{name: "missing id", body: `{"data":{"type":"event","attributes":{"name":"inquiry.completed"}}}`, wantErr: true},
		{name: "missing name", body: `{"data":{"type":"event","id":"evt_1","attributes":{}}}`, wantErr: true},
		{name: "inquiry without id", body: `{"data":{"id":"evt_1","attributes":{"name":"inquiry.created","payload":{"data":{"type":"inquiry"}}}}}`, wantErr: true},
		{name: "payload not an object", body: `{"data":{"id":"evt_1","attributes":{"name":"x","payload":"hi"}}}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseEvent([]byte(tc.body))
			if tc.wantErr {
				if err == nil {
					t.Errorf("no error, event %+v", ev)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, ev)
		})
	}
}

func TestVerifyWebhook(t *testing.T) {
	now := time.Now()
	h := SignWebhook("wbhsec_s", now, []byte(eventInquiryCompleted))
	ev, err := VerifyWebhook(h, []byte(eventInquiryCompleted), []string{"wbhsec_s"}, 0, now)
	if err != nil || ev.Inquiry == nil {
		t.Fatalf("VerifyWebhook = %v, %v", ev, err)
	}
	if _, err := VerifyWebhook(h, []byte(eventInquiryCompleted), []string{"wbhsec_other"}, 0, now); !errors.Is(err, ErrSignatureMismatch) {
		t.Errorf("err = %v", err)
	}
}

func FuzzVerifySignature(f *testing.F) {
	now := time.Unix(1709686052, 0)
	body := []byte(`{"data":{"id":"evt_1"}}`)
	good := SignWebhook("wbhsec_a", now, body)
	for _, h := range []string{
		good, good + " " + SignWebhook("wbhsec_b", now, body), "", "t=", "v1=", "t=1,v1=", ",,,", "t=1709686052,v1=zz",
		"t=-1,v1=" + strings.Repeat("0", 64), "t=99999999999999999999,v1=00", "  t=1 , v1=2  t=3 ", "t=1=2,v1=3=4",
		strings.Repeat("t=1,v1="+strings.Repeat("a", 64)+" ", 20),
	} {
		f.Add(h, body)
	}
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := VerifySignature(header, body, []string{"wbhsec_a", "wbhsec_b"}, 0, now)
		if err != nil && !errors.Is(err, ErrSignatureMalformed) && !errors.Is(err, ErrSignatureMismatch) && !errors.Is(err, ErrSignatureStale) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		// Whatever the body, a header we sign for it must verify.
		if err := VerifySignature(SignWebhook("wbhsec_b", now, body), body, []string{"wbhsec_a", "wbhsec_b"}, 0, now); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{
		eventInquiryCompleted, docCreateResponse, `{}`, `null`, `[]`, `{"data":null}`, `{"data":{"id":"evt_1","attributes":{"name":"x","payload":{"data":{}}}}}`,
		`{"data":{"id":"e","attributes":{"name":"n","payload":{"data":{"type":"inquiry","id":"i","attributes":{"fields":{"a":1,"b":{"type":"x","value":[1,{"c":2}]}}},"relationships":{"verifications":{"data":{}},"account":{"data":[1]}}}}}}}`,
		`{"data":{"id":"e","attributes":{"name":"n","created-at":"not a time","payload":{"data":{"type":"inquiry","id":"i","attributes":null}}}}}`,
		eventWith("evt_1", "inq_1", "itmpl_1", "ver_1"), eventWith("evt_1", "inq_abc\nevent: new", "itmpl_1", "ver_1"),
		eventWith("evt_1\r\n", "inq_1", "itmpl_1", "ver_1"), eventWith("evt_1", "inq_1", "itmpl_1\ndata: x", "ver_1\n"),
		`{"data":{"id":"evt_2","attributes":{"name":"v","payload":{"data":{"type":"verification/selfie","id":"ver_9\n"}}}}}`,
		`{"data":{"id":"evt_2","attributes":{"name":"v","payload":{"data":{"type":"thing","id":"x\u2028y"}}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseEvent(body)
		if err == nil && (ev.ID == "" || ev.Name == "") {
			t.Fatalf("accepted an event without id or name: %+v", ev)
		}
		if err == nil {
			checkAcceptedIDs(t, ev)
		}
		if ev != nil && ev.Inquiry != nil {
			_ = ev.Inquiry.Name()
			_ = ev.Inquiry.Field("name-first")
		}
		if q, err := DecodeInquiry(body); err == nil {
			if !ValidID(PrefixInquiry, q.ID) {
				t.Fatalf("decoded an inquiry with id %q", q.ID)
			}
			_ = q.Name()
		}
	})
}

// checkAcceptedIDs: every id of an accepted event follows the id rule, so none can carry a line
// break into an event-stream line, a URL or a page.
func checkAcceptedIDs(t *testing.T, ev *Event) {
	t.Helper()
	ids := map[string][]string{"event": {ev.ID}}
	if ev.PayloadID != "" {
		ids["payload"] = []string{ev.PayloadID}
	}
	if q := ev.Inquiry; q != nil {
		ids["inquiry"] = []string{q.ID}
		ids["related"] = append(append([]string{q.TemplateID, q.TemplateVersionID, q.AccountID}, q.VerificationIDs...), q.SessionIDs...)
	}
	for what, list := range ids {
		for _, id := range list {
			if id == "" && what == "related" {
				continue
			}
			if strings.ContainsAny(id, "\r\n") || !KnownID(id) {
				t.Fatalf("accepted an event whose %s id %q breaks the id rule", what, id)
			}
		}
	}
	if !ValidID(PrefixEvent, ev.ID) || (ev.Inquiry != nil && !ValidID(PrefixInquiry, ev.Inquiry.ID)) {
		t.Fatalf("accepted an event with ids %q / %v", ev.ID, ev.Inquiry)
	}
}
