package persona

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCreateInquiryDocumentedExample(t *testing.T) {
	var rc recorder
	c := newTestClient(t, rc.handler(func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusCreated, docCreateResponse)
	}))
	inq, err := c.CreateInquiry(context.Background(), CreateInquiryParams{
		TemplateID:  "itmpl_p8ANAJy9iqadm2buF2xcVgqH",
		ReferenceID: "user_123",
		Fields: map[string]string{
			"name-first": "Jane", "name-last": "Doe", "birthdate": "1995-09-08",
			"email-address": "jane@doe.com", "address-country-code": "US",
			"address-city": "", // empty: must be left out
		},
		Note:               "signup",
		Tags:               []string{"web"},
		RedirectURI:        "https://example.com/done",
		ExpiresAfterCreate: 24 * time.Hour,
		IdempotencyKey:     "5f0c-key",
	})
	if err != nil {
		t.Fatal(err)
	}
	r := rc.last(t)
	if r.Method != "POST" || r.Path != "/api/v1/inquiries" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	if got := r.Header.Get("Idempotency-Key"); got != "5f0c-key" {
		t.Errorf("Idempotency-Key = %q", got)
	}
	jsonEqual(t, r.Body, docCreateRequestBody)

	ts := func(s string) *time.Time { tm, _ := time.Parse(time.RFC3339, s); return &tm }
	checks := []struct {
		name      string
		got, want any
	}{
		{"ID", inq.ID, "inq_zEx4jL84ShbUyuwX6AzPSqt6"},
		{"Status", inq.Status, StatusCreated},
		{"ReferenceID", inq.ReferenceID, "user_123"},
		{"TemplateID", inq.TemplateID, "itmpl_p8ANAJy9iqadm2buF2xcVgqH"},
		{"TemplateVersionID", inq.TemplateVersionID, "itmplv_iXhqfNWqwYLAWs9G8Fm8hPfo"},
		{"AccountID", inq.AccountID, "act_n2uq9eKMboaCQzu9ALWYcVdN"},
		{"Note", inq.Note, "signup"},
		{"Tags", inq.Tags, []string{"web"}},
		{"Creator", inq.Creator, "creator@withpersona.com"},
		{"NextStepName", inq.NextStepName, "verification_document"},
		{"Field name-first", inq.Field("name-first"), "Jane"},
		{"Field birthdate", inq.Fields["birthdate"], FieldValue{Type: "date", Value: "1995-09-08"}},
		{"Field null", inq.Fields["phone-number"], FieldValue{Type: "string", Value: nil}},
		{"Field email", inq.Field("email-address"), "jane@doe.com"},
		{"Field absent", inq.Field("no-such-field"), ""},
		{"Name", inq.Name(), "Jane Doe"},
		{"CreatedAt", inq.CreatedAt, ts("2023-03-29T19:06:45Z")},
		{"UpdatedAt", inq.UpdatedAt, ts("2023-03-29T19:06:45Z")},
		{"ExpiresAt", inq.ExpiresAt, ts("2023-03-30T19:06:45Z")},
		{"StartedAt", inq.StartedAt, (*time.Time)(nil)},
		{"DecisionedAt", inq.DecisionedAt, (*time.Time)(nil)},
		{"VerificationIDs", inq.VerificationIDs, []string(nil)},
		{"SessionIDs", inq.SessionIDs, []string(nil)},
	}
	for _, tc := range checks {
		if tc.want != nil && reflect.TypeOf(tc.want).Kind() == reflect.Pointer {
			g, w := tc.got.(*time.Time), tc.want.(*time.Time)
			if (g == nil) != (w == nil) || (g != nil && !g.Equal(*w)) {
				t.Errorf("%s = %v, want %v", tc.name, g, w)
			}
			continue
		}
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
	var attrs map[string]any
	if err := json.Unmarshal(inq.Attributes, &attrs); err != nil || attrs["status"] != "created" {
		t.Errorf("Attributes not kept raw: %v %v", err, attrs["status"])
	}
}

func TestCreateInquiryBodies(t *testing.T) {
	tests := []struct {
		name    string
		params  CreateInquiryParams
		want    string // request body; "" means no request may be sent
		wantErr string
	}{
		{
			name:   "template version, no meta",
			params: CreateInquiryParams{TemplateID: "itmplv_abc", Fields: map[string]string{"name-first": " "}},
			want:   `{"data":{"attributes":{"inquiry-template-version-id":"itmplv_abc"}}}`,
		},
		{
			name:   "sub-second expiry rounds up",
			params: CreateInquiryParams{TemplateID: "itmpl_x", ExpiresAfterCreate: 1500 * time.Millisecond, ReferenceID: "r1"},
			want:   `{"data":{"attributes":{"inquiry-template-id":"itmpl_x"}},"meta":{"auto-create-account-reference-id":"r1","expiration-after-create-interval-seconds":2}}`,
		},
		{name: "missing template", params: CreateInquiryParams{}, wantErr: "template id"},
		{name: "wrong prefix", params: CreateInquiryParams{TemplateID: "inq_123"}, wantErr: "itmpl_"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rc recorder
			c := newTestClient(t, rc.handler(func(_ int, w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 201, inquiryJSON("inq_new", "created"))
			}))
			_, err := c.CreateInquiry(context.Background(), tc.params)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				if n, _ := c.Stats(); n != 0 {
					t.Errorf("%d requests sent for invalid params", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			jsonEqual(t, rc.last(t).Body, tc.want)
		})
	}
}

func TestInquiryActions(t *testing.T) {
	note := "checked by phone"
	tests := []struct {
		name       string
		do         func(c *Client) (*Inquiry, error)
		method     string
		path       string
		body       string // "" means no body
		reply      string
		check      func(t *testing.T, inq *Inquiry)
		wantIdem   string
		contextKey string
	}{
		{name: "approve with comment", method: "POST", path: "/inquiries/inq_1/approve", body: `{"meta":{"comment":"looks good"}}`,
			do: func(c *Client) (*Inquiry, error) {
				return c.ApproveInquiry(context.Background(), "inq_1", "looks good")
			}},
		{name: "approve without comment", method: "POST", path: "/inquiries/inq_1/approve",
			do: func(c *Client) (*Inquiry, error) { return c.ApproveInquiry(context.Background(), "inq_1", "") }},
		{name: "decline", method: "POST", path: "/inquiries/inq_1/decline", body: `{"meta":{"comment":"no"}}`,
			do: func(c *Client) (*Inquiry, error) { return c.DeclineInquiry(context.Background(), "inq_1", "no") }},
		{name: "mark for review", method: "POST", path: "/inquiries/inq_1/mark-for-review",
			do: func(c *Client) (*Inquiry, error) { return c.MarkInquiryForReview(context.Background(), "inq_1") }},
		{name: "expire", method: "POST", path: "/inquiries/inq_1/expire",
			do: func(c *Client) (*Inquiry, error) { return c.ExpireInquiry(context.Background(), "inq_1") }},
		{name: "redact", method: "DELETE", path: "/inquiries/inq_1",
			do: func(c *Client) (*Inquiry, error) { return c.RedactInquiry(context.Background(), "inq_1") }},
		{name: "update", method: "PATCH", path: "/inquiries/inq_1",
			body: `{"data":{"attributes":{"note":"checked by phone","tags":["vip"],"fields":{"email-address":"a@b.c"}}}}`,
			do: func(c *Client) (*Inquiry, error) {
				return c.UpdateInquiry(context.Background(), "inq_1", UpdateInquiryParams{
					Fields: map[string]string{"email-address": "a@b.c", "name-first": ""}, Note: &note, Tags: []string{"vip"}})
			}},
		{name: "update nothing", method: "PATCH", path: "/inquiries/inq_1", body: `{"data":{"attributes":{}}}`,
			do: func(c *Client) (*Inquiry, error) {
				return c.UpdateInquiry(context.Background(), "inq_1", UpdateInquiryParams{})
			}},
		{name: "keyed action via context", method: "POST", path: "/inquiries/inq_1/expire", wantIdem: "idem-9",
			do: func(c *Client) (*Inquiry, error) {
				return c.ExpireInquiry(WithIdempotencyKey(context.Background(), "idem-9"), "inq_1")
			}},
		{name: "id is escaped", method: "GET", path: "/inquiries/inq_a%2Fb",
			do: func(c *Client) (*Inquiry, error) { return c.GetInquiry(context.Background(), "inq_a/b") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rc recorder
			var rawPath string
			c := newTestClient(t, rc.handler(func(_ int, w http.ResponseWriter, r *http.Request) {
				rawPath = r.URL.EscapedPath()
				writeJSON(w, 200, inquiryJSON("inq_1", "approved"))
			}))
			inq, err := tc.do(c)
			if err != nil {
				t.Fatal(err)
			}
			if inq.ID != "inq_1" || inq.Status != "approved" {
				t.Errorf("inquiry = %+v", inq)
			}
			r := rc.last(t)
			if r.Method != tc.method || rawPath != "/api/v1"+tc.path {
				t.Errorf("request = %s %s, want %s /api/v1%s", r.Method, rawPath, tc.method, tc.path)
			}
			if tc.body == "" {
				if len(r.Body) != 0 {
					t.Errorf("unexpected body %s", r.Body)
				}
			} else {
				jsonEqual(t, r.Body, tc.body)
			}
			// Every POST carries a key: the caller's, else a fresh one; other methods none.
			got := r.Header.Get("Idempotency-Key")
			switch {
			case tc.wantIdem != "" && got != tc.wantIdem:
				t.Errorf("Idempotency-Key = %q, want %q", got, tc.wantIdem)
			case tc.wantIdem == "" && tc.method == "POST" && len(got) < 16:
				t.Errorf("Idempotency-Key = %q, want a fresh random key", got)
			case tc.method != "POST" && got != "":
				t.Errorf("Idempotency-Key = %q on %s, want none", got, tc.method)
			}
		})
	}
}

func TestResumeAndOneTimeLink(t *testing.T) {
	var rc recorder
	c := newTestClient(t, rc.handler(func(_ int, w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/resume"):
			writeJSON(w, 200, `{"data":{"type":"inquiry","id":"inq_1","attributes":{"status":"pending"}},"meta":{"session-token":"eyJtok"}}`)
		default:
			writeJSON(w, 200, `{"data":{"type":"inquiry","id":"inq_1","attributes":{"status":"pending"}},
				"meta":{"one-time-link":"https://withpersona.com/verify?code=abc","one-time-link-short":"https://perso.na/abc"}}`)
		}
	}))
	ctx := context.Background()
	inq, tok, err := c.ResumeInquiry(ctx, "inq_1")
	if err != nil || inq.Status != "pending" || tok != "eyJtok" {
		t.Fatalf("resume = %v, %q, %v", inq, tok, err)
	}
	_, link, short, err := c.GenerateOneTimeLink(ctx, "inq_1", time.Hour)
	if err != nil || link != "https://withpersona.com/verify?code=abc" || short != "https://perso.na/abc" {
		t.Fatalf("one-time link = %q, %q, %v", link, short, err)
	}
	jsonEqual(t, rc.last(t).Body, `{"meta":{"expires-in-seconds":3600}}`)
	if _, _, _, err := c.GenerateOneTimeLink(ctx, "inq_1", 0); err != nil {
		t.Fatal(err)
	}
	if b := rc.last(t).Body; len(b) != 0 {
		t.Errorf("zero expiry sent a body: %s", b)
	}
	if _, _, err := c.ResumeInquiry(ctx, " "); err == nil {
		t.Error("empty id accepted")
	}
}
