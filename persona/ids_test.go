package persona

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		prefix, id string
		want       bool
	}{
		{"inq_", "inq_2b6zKnXjt2hSAxLxrVfLjA5uPMKH", true},
		{"inq_", "inq_a", true},
		{"inq_", "inq_" + strings.Repeat("a", MaxIDChars), true},
		{"inq_", "inq_" + strings.Repeat("a", MaxIDChars+1), false},
		{"inq_", "inq_", false},
		{"inq_", "", false},
		{"inq_", "evt_abc", false},
		{"inq_", "INQ_abc", false},
		{"inq_", "inq_abc\nevent: new", false},
		{"inq_", "inq_abc\r", false},
		{"inq_", "inq_a_b", false},
		{"inq_", "inq_a-b", false},
		{"inq_", "inq_a b", false},
		{"inq_", "inq_abc\x00", false},
		{"inq_", "inq_äbc", false},
		{"itmplv_", "itmplv_5P1r5kafwjsewewqTpBD9Zeg", true},
		{"itmpl_", "itmplv_5P1r5kafwjsewewqTpBD9Zeg", false}, // "v_..." is not letters and digits
	}
	for _, tc := range tests {
		if got := ValidID(tc.prefix, tc.id); got != tc.want {
			t.Errorf("ValidID(%q, %q) = %v, want %v", tc.prefix, tc.id, got, tc.want)
		}
	}
	if !KnownID("rep_abc") || KnownID("zzz_abc") || KnownID("rep_a\nb") {
		t.Error("KnownID disagrees with the prefix table")
	}
}

// eventWith is a webhook event about an inquiry, with the ids under test.
func eventWith(evtID, inqID, templateID, verID string) string {
	return fmt.Sprintf(`{"data":{"type":"event","id":%q,"attributes":{"name":"inquiry.completed","created-at":"2024-02-15T23:48:17.732Z",
		"payload":{"data":{"type":"inquiry","id":%q,"attributes":{"status":"completed"},
		"relationships":{"inquiry-template":{"data":{"type":"inquiry-template","id":%q}},
		"verifications":{"data":[{"type":"verification/selfie","id":%q}]}}}}}}}`, evtID, inqID, templateID, verID)
}

func TestParseEventRefusesMalformedIDs(t *testing.T) {
	const evt, inq, tmpl, ver = "evt_o9byQRbjygu76Jbtea9wuJ1b", "inq_2b6zKnXjt2hSAxLxrVfLjA5u", "itmpl_PNc39Eo9uiUM1bGoKxuN2gYF", "ver_9qD3sKFriPfuaSe4uNb3"
	if _, err := ParseEvent([]byte(eventWith(evt, inq, tmpl, ver))); err != nil {
		t.Fatalf("a well-formed event was refused: %v", err)
	}
	tests := []struct{ name, body, want string }{
		{"newline in the inquiry id", eventWith(evt, "inq_abc\nevent: new", tmpl, ver), `inquiry id "inq_abc\nevent: new" is malformed`},
		{"carriage return in the event id", eventWith("evt_1\r", inq, tmpl, ver), `event id "evt_1\r" is malformed`},
		{"wrong prefix for the event", eventWith("inq_1", inq, tmpl, ver), `event id "inq_1" is malformed`},
		{"wrong prefix for the inquiry", eventWith(evt, "evt_1", tmpl, ver), `inquiry id "evt_1" is malformed`},
		{"template id", eventWith(evt, inq, "itmpl_x\ndata: <b>", ver), `template id "itmpl_x\ndata: <b>" is malformed`},
		{"verification id", eventWith(evt, inq, tmpl, "ver_1\n"), `verification id "ver_1\n" is malformed`},
		{"too long", eventWith(evt, "inq_"+strings.Repeat("A", 200), tmpl, ver), "is malformed"},
		{"verification payload", `{"data":{"id":"evt_2","attributes":{"name":"verification.passed","payload":{"data":{"type":"verification/selfie","id":"ver_9\n"}}}}}`,
			`verification id "ver_9\n" is malformed`},
		{"unknown payload type", `{"data":{"id":"evt_2","attributes":{"name":"thing.made","payload":{"data":{"type":"thing","id":"x\ny"}}}}}`,
			`id "x\ny" is malformed`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseEvent([]byte(tc.body))
			if err == nil {
				t.Fatalf("accepted: %+v", ev)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %s", err, tc.want)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("the error carries a raw line break: %q", err)
			}
		})
	}
}

// TestAPIRefusesMalformedIDs: the sandbox only makes well-formed ids, so a test server stands
// in for a Persona answering with bad ones; the client must refuse them in words.
func TestAPIRefusesMalformedIDs(t *testing.T) {
	bad := "inq_abc\nevent: new"
	tests := []struct {
		name string
		doc  string
		call func(c *Client) error
		want string
	}{
		{"get inquiry", inquiryJSON(bad, "completed"),
			func(c *Client) error { _, err := c.GetInquiry(context.Background(), "inq_abc"); return err }, `inquiry id "inq_abc\nevent: new" is malformed`},
		{"inquiry with a bad template", `{"data":{"type":"inquiry","id":"inq_abc","attributes":{"status":"created"},
			"relationships":{"inquiry-template":{"data":{"type":"inquiry-template","id":"itmpl_1\n"}}}}}`,
			func(c *Client) error { _, err := c.GetInquiry(context.Background(), "inq_abc"); return err }, `template id "itmpl_1\n" is malformed`},
		{"inquiry with a bad verification", `{"data":{"type":"inquiry","id":"inq_abc","attributes":{"status":"created"},
			"relationships":{"verifications":{"data":[{"type":"verification/selfie","id":"ver_ok"},{"type":"verification/selfie","id":"ver_<b>"}]}}}}`,
			func(c *Client) error { _, err := c.GetInquiry(context.Background(), "inq_abc"); return err }, `verification id "ver_<b>" is malformed`},
		{"list page", `{"data":[` + inquiryJSONData("inq_good") + `,` + inquiryJSONData(bad) + `],"links":{"next":null}}`,
			func(c *Client) error {
				_, err := c.ListInquiries(context.Background(), ListInquiriesParams{})
				return err
			}, `item 1: persona: decode inquiry: inquiry id`},
		{"verification", `{"data":{"type":"verification/selfie","id":"ver_1\n","attributes":{"status":"passed"}}}`,
			func(c *Client) error { _, err := c.GetVerification(context.Background(), "ver_1"); return err }, `verification id "ver_1\n" is malformed`},
		{"verification's inquiry", `{"data":{"type":"verification/selfie","id":"ver_1","relationships":{"inquiry":{"data":{"type":"inquiry","id":"inq_\n"}}}}}`,
			func(c *Client) error { _, err := c.GetVerification(context.Background(), "ver_1"); return err }, `inquiry id "inq_\n" is malformed`},
		{"template", `{"data":{"type":"inquiry-template","id":"itmpl_A\r\n","attributes":{"name":"KYC"}}}`,
			func(c *Client) error { _, err := c.GetInquiryTemplate(context.Background(), "itmpl_A"); return err }, `template id "itmpl_A\r\n" is malformed`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, tc.doc) })
			err := tc.call(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %s", err, tc.want)
			}
		})
	}
}

func inquiryJSONData(id string) string {
	return fmt.Sprintf(`{"type":"inquiry","id":%q,"attributes":{"status":"created"}}`, id)
}

func TestVerifyWebhookSetsNotAfter(t *testing.T) {
	now := time.Unix(1709686052, 0)
	body := []byte(eventWith("evt_1", "inq_1", "itmpl_1", "ver_1"))
	h := SignWebhook("wbhsec_s", now, body)
	for _, tc := range []struct {
		tolerance time.Duration
		want      time.Time
	}{{0, now.Add(DefaultWebhookTolerance)}, {time.Minute, now.Add(time.Minute)}, {-1, time.Time{}}} {
		ev, err := VerifyWebhook(h, body, []string{"wbhsec_s"}, tc.tolerance, now)
		if err != nil {
			t.Fatal(err)
		}
		if !ev.NotAfter.Equal(tc.want) {
			t.Errorf("tolerance %s: NotAfter = %v, want %v", tc.tolerance, ev.NotAfter, tc.want)
		}
	}
}
