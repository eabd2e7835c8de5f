package persona

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "persona_production_s3cr3tvalue"

// newTestClient starts handler and returns a client with fast retries.
func newTestClient(t *testing.T, handler http.HandlerFunc, tweak ...func(*Config)) *Client {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	cfg := Config{
		BaseURL:         srv.URL + "/api/v1/",
		APIKey:          testKey,
		Version:         "2023-01-05", // the bodies below are that version's; TestVersionBodies has the newer ones
		UserAgent:       "linkdesk-test/1",
		RateLimit:       600000,
		MaxRetryElapsed: 2 * time.Second,
		BackoffBase:     time.Millisecond,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	return New(cfg)
}

// recorded is what a test server saw of one request.
type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// recorder collects requests and answers each one with reply.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

func (rc *recorder) handler(reply func(n int, w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		n := len(rc.reqs)
		rc.mu.Unlock()
		reply(n, w, r)
	}
}

func (rc *recorder) all() []recorded {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]recorded(nil), rc.reqs...)
}

func (rc *recorder) last(t *testing.T) recorded {
	t.Helper()
	all := rc.all()
	if len(all) == 0 {
		t.Fatal("no request reached the server")
	}
	return all[len(all)-1]
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Request-Id", "req_test123")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// inquiryJSON is a minimal inquiry document.
func inquiryJSON(id, status string) string {
	return fmt.Sprintf(`{"data":{"type":"inquiry","id":%q,"attributes":{"status":%q}}}`, id, status)
}

func okInquiry(id string) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, inquiryJSON(id, "pending")) }
}

func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("request body is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body mismatch\n got: %s\nwant: %s", got, want)
	}
}

func TestRequestHeaders(t *testing.T) {
	var rc recorder
	c := newTestClient(t, rc.handler(okInquiry("inq_1")))
	if _, err := c.GetInquiry(context.Background(), "inq_1", "verifications", "sessions"); err != nil {
		t.Fatal(err)
	}
	r := rc.last(t)
	want := map[string]string{
		"Authorization":   "Bearer " + testKey,
		"Persona-Version": "2023-01-05",
		"Key-Inflection":  "kebab",
		"Content-Type":    "application/json",
		"Accept":          "application/json",
		"User-Agent":      "linkdesk-test/1",
		"Idempotency-Key": "",
	}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if r.Method != "GET" || r.Path != "/api/v1/inquiries/inq_1" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	if r.RawQuery != "include=verifications%2Csessions" {
		t.Errorf("query = %q", r.RawQuery)
	}
}

// TestVersionBodies: from 2025-10-27 fields' keys are not inflected, so the client sends them as
// templates configure them (snake), and asks for the template it was given by default before.
func TestVersionBodies(t *testing.T) {
	for _, v := range []string{"2025-10-27", "2025-12-08"} {
		t.Run(v, func(t *testing.T) {
			var rc recorder
			c := newTestClient(t, rc.handler(okInquiry("inq_1")), func(cfg *Config) { cfg.Version = v })
			if _, err := c.GetInquiry(context.Background(), "inq_1"); err != nil {
				t.Fatal(err)
			}
			r := rc.last(t)
			if r.Header.Get("Persona-Version") != v || r.RawQuery != "include=inquiry-template" {
				t.Errorf("version %q, query %q", r.Header.Get("Persona-Version"), r.RawQuery)
			}
			if _, err := c.UpdateInquiry(context.Background(), "inq_1", UpdateInquiryParams{Fields: map[string]string{"email-address": "a@b.c", "address-street-1": "1 Main St"}}); err != nil {
				t.Fatal(err)
			}
			jsonEqual(t, rc.last(t).Body, `{"data":{"attributes":{"fields":{"email_address":"a@b.c","address_street_1":"1 Main St"}}}}`)
		})
	}
	if err := CheckVersion("2024-01-01"); err == nil || !strings.Contains(err.Error(), "2023-01-05, 2025-10-27, 2025-12-08") {
		t.Errorf("CheckVersion(2024-01-01) = %v, want a refusal naming the versions", err)
	}
}

func TestDefaults(t *testing.T) {
	c := New(Config{APIKey: "k"})
	if c.cfg.BaseURL != DefaultBaseURL || c.cfg.Version != DefaultVersion || c.cfg.Timeout != 15*time.Second ||
		c.cfg.RateLimit != 300 || c.cfg.MaxRetryElapsed != time.Minute || c.cfg.BackoffBase != 5*time.Second {
		t.Errorf("defaults not applied: %+v", c.cfg)
	}
}

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

func TestListInquiriesQuery(t *testing.T) {
	var rc recorder
	c := newTestClient(t, rc.handler(func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"data":[{"type":"inquiry","id":"inq_b","attributes":{"status":"created"}}],
			"links":{"prev":null,"next":"/api/v1/inquiries?page%5Bafter%5D=inq_b&page%5Bsize%5D=2"}}`)
	}))
	page, err := c.ListInquiries(context.Background(), ListInquiriesParams{
		ReferenceID: "user+1", AccountID: "act_1", TemplateID: "itmpl_1", Status: "created,pending",
		CreatedAfter:  time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.FixedZone("x", 3600)),
		CreatedBefore: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC),
		PageSize:      500, After: "inq_a",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Inquiries) != 1 || page.Inquiries[0].ID != "inq_b" || page.NextAfter != "inq_b" {
		t.Errorf("page = %+v", page)
	}
	q := rc.last(t)
	vals, err := url.ParseQuery(q.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for k := range vals {
		got[k] = vals.Get(k)
	}
	want := map[string]string{
		"filter[reference-id]":        "user+1",
		"filter[account-id]":          "act_1",
		"filter[inquiry-template-id]": "itmpl_1",
		"filter[status]":              "created,pending",
		"filter[created-at-start]":    "2024-01-02T02:04:05.006Z",
		"filter[created-at-end]":      "2024-02-01T00:00:00.000Z",
		"page[size]":                  "100",
		"page[after]":                 "inq_a",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("query = %v\nwant %v", got, want)
	}
	if !strings.Contains(q.RawQuery, "user%2B1") {
		t.Errorf("+ not escaped: %s", q.RawQuery)
	}
}

// pagedServer serves total inquiries newest first, honouring page[size] and
// page[after], with links.next the way Persona writes it (no filters kept).
func pagedServer(total int, seen *[]string) http.HandlerFunc {
	var mu sync.Mutex
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*seen = append(*seen, r.URL.RawQuery)
		mu.Unlock()
		size, _ := strconv.Atoi(r.URL.Query().Get("page[size]"))
		if size == 0 {
			size = 10
		}
		start := 0
		if after := r.URL.Query().Get("page[after]"); after != "" {
			n, _ := strconv.Atoi(strings.TrimPrefix(after, "inq_"))
			start = n + 1
		}
		var items []string
		for i := start; i < total && len(items) < size; i++ {
			items = append(items, fmt.Sprintf(`{"type":"inquiry","id":"inq_%d","attributes":{"status":"completed"}}`, i))
		}
		next := "null"
		if end := start + len(items); end < total {
			next = fmt.Sprintf(`"/api/v1/inquiries?page%%5Bafter%%5D=inq_%d"`, end-1)
		}
		writeJSON(w, 200, fmt.Sprintf(`{"data":[%s],"links":{"prev":null,"next":%s}}`, strings.Join(items, ","), next))
	}
}

func TestEachInquiry(t *testing.T) {
	var queries []string
	c := newTestClient(t, pagedServer(250, &queries))
	var ids []string
	err := c.EachInquiry(context.Background(), ListInquiriesParams{Status: "pending"}, func(q *Inquiry) error {
		ids = append(ids, q.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 250 || ids[0] != "inq_0" || ids[249] != "inq_249" {
		t.Fatalf("visited %d inquiries (%v ... )", len(ids), ids[:min(3, len(ids))])
	}
	if len(queries) != 3 {
		t.Errorf("made %d requests, want 3 pages of 100", len(queries))
	}
	for _, q := range queries {
		if !strings.Contains(q, "filter%5Bstatus%5D=pending") || !strings.Contains(q, "page%5Bsize%5D=100") {
			t.Errorf("filters or page size lost on a page: %s", q)
		}
	}

	stop := errors.New("stop")
	n := 0
	err = c.EachInquiry(context.Background(), ListInquiriesParams{PageSize: 10}, func(*Inquiry) error {
		if n++; n == 15 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 15 {
		t.Errorf("callback error not returned as is: %v after %d", err, n)
	}
}

func TestEachInquiryRepeatedCursor(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"data":[{"type":"inquiry","id":"inq_x"}],"links":{"next":"/api/v1/inquiries?page%5Bafter%5D=inq_x"}}`)
	})
	err := c.EachInquiry(context.Background(), ListInquiriesParams{}, func(*Inquiry) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "repeated") {
		t.Fatalf("err = %v, want a loop guard", err)
	}
}

// reply answers requests in sequence with statuses, then with the last one.
func replySequence(statuses ...int) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, r *http.Request) {
		s := statuses[min(n, len(statuses))-1]
		switch {
		case s == -1: // drop the connection: a network error
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		case s == 429:
			w.Header().Set("RateLimit-Limit", "300")
			w.Header().Set("RateLimit-Remaining", "0")
			writeJSON(w, 429, `{"errors":[{"title":"Rate limit exceeded","details":"You have hit your rate limit of 300 requests / min."}]}`)
		case s >= 400:
			writeJSON(w, s, `{"errors":[{"title":"Service unavailable"}]}`)
		default:
			writeJSON(w, s, inquiryJSON("inq_1", "pending"))
		}
	}
}

func TestRetries(t *testing.T) {
	bg := context.Background()
	get := func(c *Client) error { _, err := c.GetInquiry(bg, "inq_1"); return err }
	keyedPost := func(c *Client) error {
		_, err := c.CreateInquiry(bg, CreateInquiryParams{TemplateID: "itmpl_1", IdempotencyKey: "k1"})
		return err
	}
	unkeyedPost := func(c *Client) error {
		_, err := c.CreateInquiry(bg, CreateInquiryParams{TemplateID: "itmpl_1"})
		return err
	}
	keyedAction := func(c *Client) error {
		_, err := c.ApproveInquiry(WithIdempotencyKey(bg, "k2"), "inq_1", "")
		return err
	}
	patch := func(c *Client) error { _, err := c.UpdateInquiry(bg, "inq_1", UpdateInquiryParams{}); return err }
	del := func(c *Client) error { _, err := c.RedactInquiry(bg, "inq_1"); return err }

	tests := []struct {
		name         string
		call         func(*Client) error
		statuses     []int
		maxElapsed   time.Duration
		wantRequests int64
		wantErr      func(error) bool
	}{
		{"GET retried on 503", get, []int{503, 503, 200}, 0, 3, nil},
		{"GET retried on 429", get, []int{429, 200}, 0, 2, nil},
		{"GET retried on network error", get, []int{-1, 200}, 0, 2, nil},
		{"GET not retried on 404", get, []int{404, 200}, 0, 1, IsNotFound},
		{"keyed POST retried on 500", keyedPost, []int{500, 201}, 0, 2, nil},
		{"keyed POST retried on network error", keyedPost, []int{-1, 201}, 0, 2, nil},
		{"keyed action retried on 502", keyedAction, []int{502, 200}, 0, 2, nil},
		{"unkeyed POST not retried on 500", unkeyedPost, []int{500, 201}, 0, 1, IsServerError},
		{"unkeyed POST not retried on 429", unkeyedPost, []int{429, 201}, 0, 1, IsRateLimited},
		{"unkeyed POST not retried on network error", unkeyedPost, []int{-1, 201}, 0, 1, IsUnavailable},
		{"PATCH not retried", patch, []int{503, 200}, 0, 1, IsUnavailable},
		{"DELETE not retried", del, []int{503, 200}, 0, 1, IsServerError},
		{"retries disabled", get, []int{503, 200}, -1, 1, IsServerError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rc recorder
			c := newTestClient(t, rc.handler(replySequence(tc.statuses...)), func(cfg *Config) {
				if tc.maxElapsed != 0 {
					cfg.MaxRetryElapsed = tc.maxElapsed
				}
			})
			err := tc.call(c)
			if tc.wantErr == nil && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.wantErr != nil && !tc.wantErr(err) {
				t.Fatalf("error %v is not of the expected class", err)
			}
			reqs, retries := c.Stats()
			if reqs != tc.wantRequests || retries != tc.wantRequests-1 {
				t.Errorf("Stats() = %d requests, %d retries; want %d, %d", reqs, retries, tc.wantRequests, tc.wantRequests-1)
			}
			if served := len(rc.all()); tc.statuses[0] != -1 && int64(served) != tc.wantRequests {
				t.Errorf("server saw %d requests", served)
			}
			for _, r := range rc.all() {
				if r.Method == "POST" && r.Header.Get("Idempotency-Key") == "" && tc.wantRequests > 1 {
					t.Error("a retried POST carried no Idempotency-Key")
				}
			}
		})
	}
}

func TestRetryGivesUpWithLastError(t *testing.T) {
	var rc recorder
	c := newTestClient(t, rc.handler(replySequence(503)), func(cfg *Config) {
		cfg.BackoffBase = 50 * time.Millisecond
		cfg.MaxRetryElapsed = 575 * time.Millisecond
	})
	_, err := c.GetInquiry(context.Background(), "inq_1")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 {
		t.Fatalf("err = %v, want the last 503", err)
	}
	// 50, 100, 200 ms fit in 575 ms, 400 more does not: 4 attempts. Jitter (≤ 20%) cannot change
	// that, and the three requests themselves may take up to 155 ms on a loaded machine.
	if reqs, retries := c.Stats(); reqs != 4 || retries != 3 {
		t.Errorf("Stats() = %d, %d; want 4 requests, 3 retries", reqs, retries)
	}
}

func TestRetryHonoursRateLimitReset(t *testing.T) {
	reply := func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("RateLimit-Reset", "1")
			writeJSON(w, 429, `{"errors":[{"title":"Rate limit exceeded"}]}`)
			return
		}
		writeJSON(w, 200, inquiryJSON("inq_1", "pending"))
	}
	t.Run("waits at least the reset", func(t *testing.T) {
		var rc recorder
		c := newTestClient(t, rc.handler(reply))
		start := time.Now()
		if _, err := c.GetInquiry(context.Background(), "inq_1"); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el < time.Second {
			t.Errorf("retried after %v, before RateLimit-Reset of 1 s", el)
		}
	})
	t.Run("gives up when the reset exceeds the budget", func(t *testing.T) {
		var rc recorder
		c := newTestClient(t, rc.handler(reply), func(cfg *Config) { cfg.MaxRetryElapsed = 100 * time.Millisecond })
		_, err := c.GetInquiry(context.Background(), "inq_1")
		if !IsRateLimited(err) || RetryAfter(err) != time.Second {
			t.Fatalf("err = %v, RetryAfter = %v", err, RetryAfter(err))
		}
		if reqs, _ := c.Stats(); reqs != 1 {
			t.Errorf("%d requests, want 1", reqs)
		}
		if got := Explain(err); got != "Persona is busy (rate limited); try again in 1 s." {
			t.Errorf("Explain = %q", got)
		}
	})
}

func TestContextCancelStopsRetries(t *testing.T) {
	var rc recorder
	c := newTestClient(t, rc.handler(replySequence(503)), func(cfg *Config) { cfg.BackoffBase = 10 * time.Second; cfg.MaxRetryElapsed = time.Minute })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetInquiry(ctx, "inq_1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("backoff ignored the context")
	}
	if reqs, _ := c.Stats(); reqs != 1 {
		t.Errorf("%d requests, want 1", reqs)
	}
}

func TestPerRequestTimeout(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}, func(cfg *Config) { cfg.Timeout = 30 * time.Millisecond; cfg.MaxRetryElapsed = -1 })
	_, err := c.GetInquiry(context.Background(), "inq_1")
	if !IsTimeout(err) || !IsUnavailable(err) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if !strings.Contains(Explain(err), "did not answer in time") {
		t.Errorf("Explain = %q", Explain(err))
	}
}

func TestAPIKeyNeverInErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens: a network error
	c := New(Config{BaseURL: srv.URL, APIKey: testKey, MaxRetryElapsed: -1})
	_, err := c.GetInquiry(context.Background(), "inq_1")
	if !IsUnavailable(err) {
		t.Fatalf("err = %v, want unavailable", err)
	}
	c2 := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, `{"errors":[{"title":"Token is invalid"}]}`)
	})
	_, err2 := c2.GetInquiry(context.Background(), "inq_1")
	for _, e := range []error{err, err2} {
		if strings.Contains(e.Error(), "s3cr3t") || strings.Contains(Explain(e), "s3cr3t") {
			t.Errorf("API key leaked: %v", e)
		}
	}
	if !IsUnauthorized(err2) {
		t.Errorf("err = %v, want 401", err2)
	}
}

func TestLimiterThrottlesClient(t *testing.T) {
	// 60/min: a burst of 3, then one request a second. With 200 ms to go,
	// exactly the burst gets out; the fourth call would outlast the deadline,
	// so it is refused at once as rate limited, without reaching the server.
	var rc recorder
	c := newTestClient(t, rc.handler(okInquiry("inq_1")), func(cfg *Config) { cfg.RateLimit = 60 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var err error
	ok := 0
	for i := 0; i < 10 && err == nil; i++ {
		if _, err = c.GetInquiry(ctx, "inq_1"); err == nil {
			ok++
		}
	}
	if ok != 3 || !IsRateLimited(err) || RetryAfter(err) <= 0 {
		t.Errorf("%d calls passed (err %v), want the burst of 3 then a wait", ok, err)
	}
	if served := len(rc.all()); served != 3 {
		t.Errorf("server saw %d requests, want 3", served)
	}
}

func TestGetVerificationDocumentedExample(t *testing.T) {
	var rc recorder
	c := newTestClient(t, rc.handler(func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, docVerification)
	}))
	v, err := c.GetVerification(context.Background(), "ver_ABC123")
	if err != nil {
		t.Fatal(err)
	}
	if p := rc.last(t).Path; p != "/api/v1/verifications/ver_ABC123" {
		t.Errorf("path = %s", p)
	}
	want := Check{Name: "id_expired_detection", Status: "passed", Reasons: []string{}, Requirement: "required"}
	if v.ID != "ver_ABC123" || v.Type != "verification/government-id" || v.Status != "passed" || v.InquiryID != "inq_ABC123" ||
		len(v.Checks) != 1 || !reflect.DeepEqual(v.Checks[0], want) {
		t.Errorf("verification = %+v", v)
	}
	if v.CompletedAt == nil || !v.CompletedAt.Equal(time.Date(2024, 3, 20, 21, 22, 31, 0, time.UTC)) || v.SubmittedAt == nil || v.CreatedAt == nil {
		t.Errorf("timestamps = %v %v %v", v.CreatedAt, v.SubmittedAt, v.CompletedAt)
	}
	if v.Attributes["id-class"] != "dl" || v.Attributes["name-first"] != "JANE" {
		t.Errorf("attributes = %v", v.Attributes)
	}
	// What the ID says, with only the end of the document number.
	f, ok := v.IDFacts()
	if want := (IDFacts{NameFirst: "JANE", NameLast: "DOE", Birthdate: "1990-01-01", NumberEnding: "3ABC"}); !ok || f != want || f.Name() != "JANE DOE" {
		t.Errorf("IDFacts = %+v %v, want %+v", f, ok, want)
	}
}

// Only ID verifications have ID facts, and a short number shows no part of itself.
func TestIDFactsOnlyFromIDs(t *testing.T) {
	if _, ok := (&Verification{Type: "verification/selfie", Attributes: map[string]any{"name-first": "X"}}).IDFacts(); ok {
		t.Error("a selfie has ID facts")
	}
	f, ok := (&Verification{Type: "verification/passport", Attributes: map[string]any{"identification-number": "12345", "name-last": "Roe"}}).IDFacts()
	if !ok || f.NumberEnding != "" || f.NameLast != "Roe" {
		t.Errorf("IDFacts = %+v %v", f, ok)
	}
}

func TestInquiryTemplates(t *testing.T) {
	t.Run("sandbox key refused without a request", func(t *testing.T) {
		var rc recorder
		c := newTestClient(t, rc.handler(okInquiry("x")), func(cfg *Config) { cfg.APIKey = "persona_sandbox_abc" })
		for _, call := range []func() error{
			func() error { _, err := c.ListInquiryTemplates(context.Background()); return err },
			func() error { _, err := c.GetInquiryTemplate(context.Background(), "itmpl_1"); return err },
		} {
			err := call()
			var ae *APIError
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), templatesSandboxMessage) {
				t.Errorf("err = %v", err)
			}
			if Explain(err) != templatesSandboxMessage {
				t.Errorf("Explain = %q", Explain(err))
			}
		}
		if len(rc.all()) != 0 {
			t.Error("a Sandbox key reached the server")
		}
	})
	t.Run("production key lists every page", func(t *testing.T) {
		var rc recorder
		c := newTestClient(t, rc.handler(func(n int, w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("page[after]") == "" {
				writeJSON(w, 200, `{"data":[{"type":"inquiry-template","id":"itmpl_A","attributes":{"name":"KYC","status":"active"},
					"relationships":{"latest-published-version":{"data":{"type":"inquiry-template-version","id":"itmplv_A1"}}}}],
					"links":{"next":"/api/v1/inquiry-templates?page%5Bafter%5D=itmpl_A"}}`)
				return
			}
			writeJSON(w, 200, `{"data":[{"type":"inquiry-template","id":"itmpl_B","attributes":{"name":"KYB","status":"inactive"}}],"links":{"next":null}}`)
		}))
		got, err := c.ListInquiryTemplates(context.Background())
		want := []Template{{ID: "itmpl_A", Name: "KYC", Status: "active", LatestVersionID: "itmplv_A1"}, {ID: "itmpl_B", Name: "KYB", Status: "inactive"}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("templates = %+v, %v", got, err)
		}
	})
	t.Run("404 on the list is mapped", func(t *testing.T) {
		c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 404, `{"errors":[{"title":"Record not found"}]}`)
		})
		// A production key: the 404 is not blamed on Sandbox.
		_, err := c.ListInquiryTemplates(context.Background())
		if x := Explain(err); !IsNotFound(err) || x == templatesSandboxMessage || !strings.Contains(x, "404") || !strings.Contains(x, "a production key") {
			t.Errorf("err = %v / %q", err, x)
		}
		_, err = c.GetInquiryTemplate(context.Background(), "itmpl_missing")
		if x := Explain(err); !IsNotFound(err) || x != "Persona has no inquiry template itmpl_missing for this API key's organisation and environment (a production key). Check the id in Persona's dashboard." {
			t.Errorf("a missing template: %v / %q", err, x)
		}
	})
}

func TestSuccessWithBadJSON(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `<html>`) })
	if _, err := c.GetInquiry(context.Background(), "inq_1"); err == nil || !strings.Contains(err.Error(), "decode") {
		t.Fatalf("err = %v", err)
	}
	if reqs, _ := c.Stats(); reqs != 1 {
		t.Errorf("a bad 200 was retried")
	}
}
