package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

var (
	inquiryIDRe = regexp.MustCompile(`^inq_[1-9A-HJ-NP-Za-km-z]{28}$`)
	timeRe      = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
)

func idRe(prefix string) *regexp.Regexp {
	return regexp.MustCompile(`^` + prefix + `[1-9A-HJ-NP-Za-km-z]{24}$`)
}

// The contract's example request (section 2.1).
func exampleCreate() map[string]any {
	return map[string]any{
		"data": map[string]any{"attributes": map[string]any{
			"inquiry-template-id": TemplateKYC,
			"redirect-uri":        "https://example.com/done",
			"note":                "signup",
			"tags":                []string{"web"},
			"fields": map[string]any{
				"name-first": "Jane", "name-last": "Doe", "birthdate": "1995-09-08",
				"email-address": "jane@doe.com", "address-country-code": "US",
				"address-subdivision": "California",
			},
		}},
		"meta": map[string]any{
			"auto-create-account-reference-id":         "user_123",
			"expiration-after-create-interval-seconds": 86400,
		},
	}
}

func TestCreateInquiryShape(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.call("POST", "/inquiries", exampleCreate(), "Idempotency-Key", "k-shape")
	mustStatus(t, r, 201)

	// Headers on every response (section 1.7).
	if got := r.header.Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	if !idRe("req_").MatchString(r.header.Get("Request-Id")) {
		t.Errorf("Request-Id %q", r.header.Get("Request-Id"))
	}
	for _, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
		if r.header.Get(h) == "" {
			t.Errorf("missing header %s", h)
		}
	}
	if r.header.Get("RateLimit-Limit") != "300" {
		t.Errorf("RateLimit-Limit %q, want 300 (Persona's default)", r.header.Get("RateLimit-Limit"))
	}
	if r.header.Get("Cache-Control") != "no-cache, no-store, max-age=0, must-revalidate" || r.header.Get("Pragma") != "no-cache" || r.header.Get("Expires") == "" {
		t.Errorf("cache headers %v", r.header)
	}

	if r.str("data.type") != "inquiry" {
		t.Errorf("data.type %q", r.str("data.type"))
	}
	id := r.str("data.id")
	if !inquiryIDRe.MatchString(id) || len(id) != 32 {
		t.Errorf("inquiry id %q: want inq_ + 28 Base58 characters", id)
	}
	want := map[string]any{
		"data.attributes.status":                              "created",
		"data.attributes.reference-id":                        "user_123",
		"data.attributes.note":                                "signup",
		"data.attributes.tags.0":                              "web",
		"data.attributes.name-first":                          "Jane",
		"data.attributes.name-last":                           "Doe",
		"data.attributes.birthdate":                           "1995-09-08",
		"data.attributes.email-address":                       "jane@doe.com",
		"data.attributes.address-subdivision-abbr":            "CA",
		"data.attributes.previous-step-name":                  "start",
		"data.attributes.fields.name-first.type":              "string",
		"data.attributes.fields.name-first.value":             "Jane",
		"data.attributes.fields.birthdate.type":               "date",
		"data.attributes.fields.birthdate.value":              "1995-09-08",
		"data.attributes.fields.address-country-code.value":   "US",
		"data.attributes.behaviors.behavior-threat-level":     "low",
		"data.relationships.inquiry-template.data.type":       "inquiry-template",
		"data.relationships.inquiry-template.data.id":         TemplateKYC,
		"data.relationships.inquiry-template-version.data.id": TemplateKYCVersion,
		"data.relationships.account.data.type":                "account",
	}
	for path, v := range want {
		if got := r.get(path); got != v {
			t.Errorf("%s = %#v, want %#v", path, got, v)
		}
	}
	attrs := r.get("data.attributes").(map[string]any)
	// Null-valued attributes must be present, as in Persona's examples.
	for _, k := range []string{"name-middle", "address-street-1", "address-street-2", "address-city",
		"address-postal-code", "address-postal-code-abbr", "social-security-number", "identification-number",
		"phone-number", "reviewer-comment", "creator", "updated-at", "started-at", "completed-at", "failed-at",
		"marked-for-review-at", "decisioned-at", "expired-at", "redacted-at", "next-step-name", "behaviors", "fields"} {
		if _, ok := attrs[k]; !ok {
			t.Errorf("attribute %s missing", k)
		}
	}
	if attrs["started-at"] != nil || attrs["completed-at"] != nil {
		t.Errorf("started-at/completed-at should be null: %v %v", attrs["started-at"], attrs["completed-at"])
	}
	for _, k := range []string{"created-at", "updated-at", "expires-at"} {
		if s, _ := attrs[k].(string); !timeRe.MatchString(s) {
			t.Errorf("%s = %v: want ISO 8601 with milliseconds and Z", k, attrs[k])
		}
	}
	created, _ := time.Parse(timeFormat, attrs["created-at"].(string))
	expires, _ := time.Parse(timeFormat, attrs["expires-at"].(string))
	if expires.Sub(created) != 24*time.Hour {
		t.Errorf("expires-at - created-at = %v, want 24h", expires.Sub(created))
	}
	for _, k := range []string{"name-middle", "address-street-1", "phone-number", "identification-number", "address-city"} {
		f, ok := jpath(attrs, "fields."+k).(map[string]any)
		if !ok {
			t.Errorf("fields.%s missing", k)
			continue
		}
		if _, ok := f["value"]; !ok || f["value"] != nil || f["type"] != "string" {
			t.Errorf("fields.%s = %v, want {type: string, value: null}", k, f)
		}
	}
	if !idRe("act_").MatchString(r.str("data.relationships.account.data.id")) {
		t.Errorf("account id %q", r.str("data.relationships.account.data.id"))
	}
	rels := r.get("data.relationships").(map[string]any)
	for _, k := range []string{"template", "transaction", "reviewer"} {
		if jpath(rels, k+".data") != nil {
			t.Errorf("relationships.%s.data should be null", k)
		}
	}
	for _, k := range []string{"reports", "verifications", "sessions", "documents", "selfies"} {
		if d, ok := jpath(rels, k+".data").([]any); !ok || len(d) != 0 {
			t.Errorf("relationships.%s.data should be []", k)
		}
	}
	if _, ok := r.doc["included"]; ok {
		t.Errorf("create should not include related objects without ?include")
	}
	// The create schema requires meta, its three keys null unless asked for.
	if m, ok := r.doc["meta"].(map[string]any); !ok || len(m) != 3 || m["session-token"] != nil || m["one-time-link"] != nil || m["one-time-link-short"] != nil {
		t.Errorf("meta %v, want session-token, one-time-link and one-time-link-short all null", r.doc["meta"])
	}
}

func TestCreateVariants(t *testing.T) {
	e := newEnv(t, Options{})
	t.Run("reference-id attribute and template version id", func(t *testing.T) {
		r := e.call("POST", "/inquiries", map[string]any{"data": map[string]any{"attributes": map[string]any{
			"inquiry-template-version-id": TemplateKYCManualReviewVersion,
			"reference-id":                "legacy-ref",
			"fields":                      map[string]any{"name_first": "Snake", "favourite-colour": "blue", "age": 42},
		}}})
		mustStatus(t, r, 201)
		if r.str("data.attributes.reference-id") != "legacy-ref" {
			t.Errorf("reference-id %q", r.str("data.attributes.reference-id"))
		}
		if r.str("data.relationships.inquiry-template.data.id") != TemplateKYCManualReview {
			t.Errorf("template %q", r.str("data.relationships.inquiry-template.data.id"))
		}
		if r.str("data.attributes.fields.name-first.value") != "Snake" {
			t.Errorf("snake_case field key not normalized: %s", r.raw)
		}
		if r.str("data.attributes.fields.favourite-colour.type") != "string" || r.str("data.attributes.fields.age.type") != "number" {
			t.Errorf("custom field types: %v", r.get("data.attributes.fields"))
		}
	})
	t.Run("same reference id, same account", func(t *testing.T) {
		a := e.call("POST", "/inquiries", map[string]any{"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": TemplateKYC}},
			"meta": map[string]any{"auto-create-account-reference-id": "same"}})
		b := e.call("POST", "/inquiries", map[string]any{"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": TemplateKYC, "reference-id": "same"}}})
		if a.str("data.relationships.account.data.id") != b.str("data.relationships.account.data.id") {
			t.Errorf("accounts differ for one reference id")
		}
	})
	t.Run("session token and one-time link on create", func(t *testing.T) {
		r := e.call("POST", "/inquiries", map[string]any{"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": TemplateKYC}},
			"meta": map[string]any{"auto-create-inquiry-session": true, "auto-create-one-time-link": true}})
		mustStatus(t, r, 201)
		if strings.Count(r.str("meta.session-token"), ".") != 2 {
			t.Errorf("meta.session-token %q", r.str("meta.session-token"))
		}
		if !strings.HasPrefix(r.str("meta.one-time-link"), e.srv.URL+"/verify?code=") {
			t.Errorf("meta.one-time-link %q", r.str("meta.one-time-link"))
		}
	})
	t.Run("include on create", func(t *testing.T) {
		r := e.call("POST", "/inquiries?include=account", map[string]any{"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": TemplateKYC}}})
		mustStatus(t, r, 201)
		if r.str("included.0.type") != "account" {
			t.Errorf("included %v", r.get("included"))
		}
	})
}

func TestCreateValidation(t *testing.T) {
	e := newEnv(t, Options{})
	cases := []struct {
		name    string
		body    any
		status  int
		title   string
		details string
		pointer string
	}{
		{"no template", map[string]any{"data": map[string]any{"attributes": map[string]any{"note": "x"}}}, 400, "Bad Request", msgTemplateMissing, ""},
		{"two templates", map[string]any{"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": TemplateKYC, "inquiry-template-version-id": TemplateKYCVersion}}}, 400, "Bad Request", msgTemplateMissing, ""},
		{"empty body", nil, 400, "Bad Request", "data must be filled", ""},
		{"not JSON", "{nope", 400, "Bad Request", "The request body is not valid JSON", ""},
		{"unknown template", map[string]any{"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": "itmpl_unknown"}}}, 404, "Record not found", "data.attributes.inquiry_template_id is not found", ""},
		{"legacy template", map[string]any{"data": map[string]any{"attributes": map[string]any{"template-id": "tmpl_x"}}}, 404, "Record not found", "data.attributes.template_id is not found", ""},
		{"bad birthdate", map[string]any{"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": TemplateKYC, "fields": map[string]any{"birthdate": "08/09/1995"}}}}, 422, "Record invalid", "fields.birthdate must be a date in the format YYYY-MM-DD", "/data/attributes/fields/birthdate"},
		{"bad country", map[string]any{"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": TemplateKYC, "fields": map[string]any{"address-country-code": "USA"}}}}, 422, "Record invalid", "fields.address-country-code must be an ISO 3166-1 alpha-2 country code", "/data/attributes/fields/address-country-code"},
		{"reference id without account", map[string]any{"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": TemplateKYC}}, "meta": map[string]any{"auto-create-account": false, "auto-create-account-reference-id": "x"}}, 400, "Bad Request", "", ""},
		{"tags not strings", map[string]any{"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": TemplateKYC, "tags": []any{1}}}}, 400, "Bad Request", "data.attributes.tags must be an array of strings", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.call("POST", "/inquiries", c.body)
			mustStatus(t, r, c.status)
			if r.str("errors.0.title") != c.title {
				t.Errorf("title %q, want %q", r.str("errors.0.title"), c.title)
			}
			if c.details != "" && r.str("errors.0.details") != c.details {
				t.Errorf("details %q, want %q", r.str("errors.0.details"), c.details)
			}
			if c.pointer != "" && r.str("errors.0.source.pointer") != c.pointer {
				t.Errorf("pointer %q, want %q", r.str("errors.0.source.pointer"), c.pointer)
			}
			if _, has := jpath(r.doc, "errors.0.source").(map[string]any); c.status == 404 && has {
				t.Errorf("a 404 has a source (Persona's not-found errors have none): %s", r.raw)
			}
		})
	}
	if got := e.sb.Stats().InquiriesCreated; got != 0 {
		t.Errorf("%d inquiries created by invalid requests", got)
	}
}

func TestRetrieveIncludesAndSparseFields(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(TemplateKYC, "ref-1", map[string]any{"name-first": "Jane"})
	r := e.call("GET", "/inquiries/"+id, nil)
	mustStatus(t, r, 200)
	if r.str("data.id") != id {
		t.Fatalf("data.id %q", r.str("data.id"))
	}
	var tmpl map[string]any
	for _, o := range r.get("included").([]any) {
		if jpath(o, "type") == "inquiry-template" {
			tmpl = o.(map[string]any)
		}
	}
	if tmpl == nil {
		t.Fatalf("retrieve must include the inquiry template by default: %s", r.raw)
	}
	if jpath(tmpl, "id") != TemplateKYC || jpath(tmpl, "attributes.name") != "KYC" || jpath(tmpl, "attributes.status") != "active" ||
		jpath(tmpl, "relationships.latest-published-version.data.id") != TemplateKYCVersion {
		t.Errorf("included template %v", tmpl)
	}

	r = e.call("GET", "/inquiries/"+id+"?include=", nil)
	if _, ok := r.doc["included"]; ok {
		t.Errorf("?include= must include nothing: %v", r.doc["included"])
	}
	r = e.call("GET", "/inquiries/"+id+"?include=account,inquiry-template.latest-published-version", nil)
	types := []string{}
	for _, o := range r.get("included").([]any) {
		types = append(types, jpath(o, "type").(string))
	}
	if strings.Join(types, ",") != "account,inquiry-template,inquiry-template-version" {
		t.Errorf("included types %v", types)
	}
	if r.str("included.0.attributes.reference-id") != "ref-1" {
		t.Errorf("account reference-id %v", r.get("included.0"))
	}
	r = e.call("GET", "/inquiries/"+id+"?include=nonsense", nil)
	mustStatus(t, r, 400)

	r = e.call("GET", "/inquiries/"+id+"?fields%5Binquiry%5D=status,fields.name-first&include=", nil)
	attrs := r.get("data.attributes").(map[string]any)
	if len(attrs) != 2 || attrs["status"] != "created" || jpath(attrs, "fields.name-first.value") != "Jane" {
		t.Errorf("sparse fieldset: %v", attrs)
	}
}

func TestAuthAndNotFound(t *testing.T) {
	e := newEnv(t, Options{})
	for name, hdr := range map[string][]string{
		"missing": {"Authorization", ""},
		"wrong":   {"Authorization", "Bearer persona_sandbox_wrong"},
		"scheme":  {"Authorization", "Basic " + DefaultAPIKey},
	} {
		r := e.call("GET", "/inquiries", nil, hdr...)
		mustStatus(t, r, 401)
		if r.str("errors.0.title") != "Must be authenticated to access this endpoint" {
			t.Errorf("%s: %s", name, r.raw)
		}
		if r.header.Get("Request-Id") == "" || r.header.Get("RateLimit-Limit") == "" {
			t.Errorf("%s: headers missing on 401", name)
		}
	}
	for _, p := range []string{"/inquiries/inq_doesnotexist", "/verifications/ver_nope", "/inquiry-sessions/iqse_nope"} {
		r := e.call("GET", p, nil)
		mustStatus(t, r, 404)
		if r.str("errors.0.title") != "Record not found" {
			t.Errorf("%s: %s", p, r.raw)
		}
	}
	r := e.call("POST", "/inquiries/inq_doesnotexist/approve", nil)
	mustStatus(t, r, 404)
	r = e.call("GET", "/nothing-here", nil)
	mustStatus(t, r, 404)
	r = e.call("PUT", "/inquiries", nil)
	mustStatus(t, r, 405)
	if e.sb.Stats().Unauthorized != 3 {
		t.Errorf("Unauthorized = %d", e.sb.Stats().Unauthorized)
	}
}

func TestInquiryTemplatesEndpoint(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.call("GET", "/inquiry-templates", nil)
	mustStatus(t, r, 403)
	if !strings.Contains(r.str("errors.0.details"), "do not expose organization-level resources") {
		t.Errorf("details %q", r.str("errors.0.details"))
	}
	p := newEnv(t, Options{APIKey: "persona_production_test"})
	r = p.call("GET", "/inquiry-templates", nil)
	mustStatus(t, r, 200)
	if len(r.get("data").([]any)) != 2 || r.str("data.0.type") != "inquiry-template" {
		t.Errorf("templates %s", r.raw)
	}
	r = p.call("GET", "/inquiry-templates/"+TemplateKYCManualReview, nil)
	mustStatus(t, r, 200)
	if r.str("data.attributes.name") != "KYC with manual review" {
		t.Errorf("template %s", r.raw)
	}
}

func TestIdempotency(t *testing.T) {
	e := newEnv(t, Options{})
	body := exampleCreate()
	a := e.call("POST", "/inquiries", body, "Idempotency-Key", "key-1")
	mustStatus(t, a, 201)
	// Same parameters, written differently (key order, spacing): a replay.
	j, _ := json.Marshal(body)
	var generic map[string]any
	json.Unmarshal(j, &generic)
	pretty, _ := json.MarshalIndent(generic, "", "    ")
	b := e.call("POST", "/inquiries", string(pretty), "Idempotency-Key", "key-1")
	mustStatus(t, b, 201)
	if string(a.raw) != string(b.raw) {
		t.Errorf("replay body differs")
	}
	if a.header.Get("Request-Id") != b.header.Get("Request-Id") {
		t.Errorf("replay should carry the original Request-Id")
	}
	st := e.sb.Stats()
	if st.InquiriesCreated != 1 || st.IdempotentReplays != 1 {
		t.Errorf("created %d, replays %d", st.InquiriesCreated, st.IdempotentReplays)
	}
	// Same key, different parameters.
	body["meta"].(map[string]any)["auto-create-account-reference-id"] = "someone-else"
	c := e.call("POST", "/inquiries", body, "Idempotency-Key", "key-1")
	mustStatus(t, c, 422)
	if c.str("errors.0.title") == "" || !strings.Contains(c.str("errors.0.details"), "different parameters") {
		t.Errorf("mismatch error %s", c.raw)
	}

	// 4xx answers are saved too.
	bad := map[string]any{"data": map[string]any{"attributes": map[string]any{}}}
	r1 := e.call("POST", "/inquiries", bad, "Idempotency-Key", "key-bad")
	r2 := e.call("POST", "/inquiries", bad, "Idempotency-Key", "key-bad")
	mustStatus(t, r1, 400)
	mustStatus(t, r2, 400)
	if e.sb.Stats().IdempotentReplays != 2 {
		t.Errorf("400 not replayed")
	}

	// 401 is evaluated before: the same key then runs.
	u := e.call("POST", "/inquiries", exampleCreate(), "Idempotency-Key", "key-2", "Authorization", "Bearer wrong")
	mustStatus(t, u, 401)
	ok := e.call("POST", "/inquiries", exampleCreate(), "Idempotency-Key", "key-2")
	mustStatus(t, ok, 201)

	// Actions are idempotent too: a replayed approve is not a second approve.
	id := ok.str("data.id")
	if err := e.sb.Complete(id, false); err != nil {
		t.Fatal(err)
	}
	d1 := e.call("POST", "/inquiries/"+id+"/decline", map[string]any{"meta": map[string]any{"comment": "no"}}, "Idempotency-Key", "dec-1")
	d2 := e.call("POST", "/inquiries/"+id+"/decline", map[string]any{"meta": map[string]any{"comment": "no"}}, "Idempotency-Key", "dec-1")
	mustStatus(t, d1, 200)
	mustStatus(t, d2, 200)
	d3 := e.call("POST", "/inquiries/"+id+"/decline", map[string]any{"meta": map[string]any{"comment": "no"}}, "Idempotency-Key", "dec-2")
	mustStatus(t, d3, 409)

	// GET ignores the header.
	g1 := e.call("GET", "/inquiries/"+id, nil, "Idempotency-Key", "key-1")
	mustStatus(t, g1, 200)
}

func TestStateRules(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(TemplateKYC, "rules", nil)

	// created: no resume (not pending/expired), but a one-time link works.
	mustStatus(t, e.call("POST", "/inquiries/"+id+"/resume", nil), 409)
	otl := e.call("POST", "/inquiries/"+id+"/generate-one-time-link", nil)
	mustStatus(t, otl, 200)

	// Start it (first step submitted) → pending; resume gives a JWT.
	e.sb.mu.Lock()
	e.sb.submitStep(e.sb.inquiries[id], true, stepInput{})
	e.sb.mu.Unlock()
	if st := e.status(id); st != "pending" {
		t.Fatalf("status %s, want pending", st)
	}
	r := e.call("POST", "/inquiries/"+id+"/resume", nil)
	mustStatus(t, r, 200)
	tok := r.str("meta.session-token")
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("session token %q is not a JWT", tok)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	pl, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	json.Unmarshal(pl, &claims)
	if string(hdr) != `{"alg":"HS256"}` || !idRe("iqse_").MatchString(fmt.Sprint(claims["sub"])) || claims["aud"] != "persona-verify" ||
		claims["sid"] != claims["sub"] || claims["exp"].(float64)-claims["iat"].(float64) != 86400 {
		t.Errorf("token header %s claims %v", hdr, claims)
	}
	if r.str("data.attributes.status") != "pending" {
		t.Errorf("resume of pending: status %s", r.str("data.attributes.status"))
	}

	// Expire → expired; no one-time link; resume → pending.
	r = e.call("POST", "/inquiries/"+id+"/expire", nil)
	mustStatus(t, r, 200)
	if r.str("data.attributes.status") != "expired" || r.get("data.attributes.expired-at") == nil {
		t.Errorf("expire: %s", r.raw)
	}
	mustStatus(t, e.call("POST", "/inquiries/"+id+"/expire", nil), 409)
	r = e.call("POST", "/inquiries/"+id+"/generate-one-time-link", nil)
	mustStatus(t, r, 409)
	r = e.call("POST", "/inquiries/"+id+"/resume", nil)
	mustStatus(t, r, 200)
	if r.str("data.attributes.status") != "pending" || r.str("meta.session-token") == "" {
		t.Errorf("resume of expired: %s", r.raw)
	}

	// Finish; decisions.
	if err := e.sb.Complete(id, true); err != nil {
		t.Fatal(err)
	}
	if st := e.status(id); st != "approved" {
		t.Fatalf("KYC passing: %s, want approved", st)
	}
	mustStatus(t, e.call("POST", "/inquiries/"+id+"/resume", nil), 409)
	mustStatus(t, e.call("POST", "/inquiries/"+id+"/mark-for-review", nil), 409)
	mustStatus(t, e.call("POST", "/inquiries/"+id+"/approve", nil), 409)
	mustStatus(t, e.call("POST", "/inquiries/"+id+"/expire", nil), 409)

	// Manual review: completed → needs_review → decline with a comment.
	m := e.create(TemplateKYCManualReview, "rules-2", nil)
	if err := e.sb.Complete(m, true); err != nil {
		t.Fatal(err)
	}
	r = e.call("GET", "/inquiries/"+m, nil)
	if r.str("data.attributes.status") != "needs_review" || r.get("data.attributes.completed-at") == nil || r.get("data.attributes.marked-for-review-at") == nil {
		t.Errorf("manual review template: %s", r.raw)
	}
	r = e.call("POST", "/inquiries/"+m+"/decline", map[string]any{"meta": map[string]any{"comment": "blurry"}})
	mustStatus(t, r, 200)
	if r.str("data.attributes.status") != "declined" || r.str("data.attributes.reviewer-comment") != "blurry" || r.get("data.attributes.decisioned-at") == nil {
		t.Errorf("decline: %s", r.raw)
	}

	// Mark for review from failed, then approve.
	f := e.create(TemplateKYC, "", nil)
	e.sb.Complete(f, false)
	if st := e.status(f); st != "failed" {
		t.Fatalf("failing: %s", st)
	}
	r = e.call("POST", "/inquiries/"+f+"/mark-for-review", nil)
	if r.str("data.attributes.status") != "needs_review" {
		t.Errorf("mark-for-review: %s", r.raw)
	}
	r = e.call("POST", "/inquiries/"+f+"/approve", nil)
	if r.str("data.attributes.status") != "approved" {
		t.Errorf("approve: %s", r.raw)
	}

	// Redact: 200 with redacted-at and no PII; twice → 409; no resume.
	x := e.create(TemplateKYC, "", map[string]any{"name-first": "Jane", "birthdate": "1990-01-01"})
	r = e.call("DELETE", "/inquiries/"+x, nil)
	mustStatus(t, r, 200)
	if r.get("data.attributes.redacted-at") == nil || r.get("data.attributes.name-first") != nil || r.get("data.attributes.fields.birthdate.value") != nil {
		t.Errorf("redact: %s", r.raw)
	}
	r = e.call("DELETE", "/inquiries/"+x, nil)
	mustStatus(t, r, 409)
	if r.str("errors.0.details") != "Inquiry already redacted" {
		t.Errorf("redact twice: %s", r.raw)
	}
	mustStatus(t, e.call("POST", "/inquiries/"+x+"/resume", nil), 409)
}

func TestUpdateAndTags(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(TemplateKYC, "", map[string]any{"name-first": "Jane", "name-last": "Doe"})
	r := e.call("PATCH", "/inquiries/"+id, map[string]any{"data": map[string]any{"attributes": map[string]any{
		"note": "updated", "tags": []string{"a", "b", "a"}, "fields": map[string]any{"name-last": "Roe", "phone-number": "+14155551234"},
	}}})
	mustStatus(t, r, 200)
	if r.str("data.attributes.note") != "updated" || r.str("data.attributes.name-last") != "Roe" || r.str("data.attributes.name-first") != "Jane" ||
		r.str("data.attributes.phone-number") != "+14155551234" || len(r.get("data.attributes.tags").([]any)) != 2 {
		t.Errorf("update: %s", r.raw)
	}
	r = e.call("PATCH", "/inquiries/"+id, map[string]any{"data": map[string]any{"attributes": map[string]any{"fields": map[string]any{"birthdate": "nope"}}}})
	mustStatus(t, r, 422)
	r = e.call("POST", "/inquiries/"+id+"/add-tag", map[string]any{"meta": map[string]any{"tag-name": "c"}})
	mustStatus(t, r, 200)
	r = e.call("POST", "/inquiries/"+id+"/remove-tag", map[string]any{"meta": map[string]any{"tag-name": "a"}})
	r = e.call("POST", "/inquiries/"+id+"/set-tags", map[string]any{"meta": map[string]any{"tag-name": []string{"x", "y"}}})
	mustStatus(t, r, 200)
	if fmt.Sprint(r.get("data.attributes.tags")) != "[x y]" {
		t.Errorf("tags %v", r.get("data.attributes.tags"))
	}
}

func TestOneTimeLinkReuse(t *testing.T) {
	e := newEnv(t, Options{PublicURL: "http://sandbox.example:8091"})
	id := e.create(TemplateKYC, "", nil)
	a := e.call("POST", "/inquiries/"+id+"/generate-one-time-link", map[string]any{"meta": map[string]any{"expires-in-seconds": 600}})
	mustStatus(t, a, 200)
	link := a.str("meta.one-time-link")
	if !strings.HasPrefix(link, "http://sandbox.example:8091/verify?code=") || !strings.HasPrefix(a.str("meta.one-time-link-short"), "http://sandbox.example:8091/verify?code=") {
		t.Fatalf("links %s", a.raw)
	}
	if a.str("data.id") != id {
		t.Errorf("data is not the inquiry")
	}
	b := e.call("POST", "/inquiries/"+id+"/generate-one-time-link", nil)
	if b.str("meta.one-time-link") != link {
		t.Errorf("an unused, unexpired link should be returned again")
	}
	// Once used, a new call gives a new link.
	u, _ := url.Parse(link)
	br := e.browser()
	br.open("/verify?" + u.RawQuery)
	if br.heading() != "Confirm your details" {
		t.Fatalf("one-time link opened %q", br.heading())
	}
	c := e.call("POST", "/inquiries/"+id+"/generate-one-time-link", nil)
	if c.str("meta.one-time-link") == link {
		t.Errorf("a used link was handed out again")
	}
	mustStatus(t, e.call("POST", "/inquiries/"+id+"/generate-one-time-link", map[string]any{"meta": map[string]any{"expires-in-seconds": -1}}), 400)
}

func TestSimulateActions(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(TemplateKYC, "", nil)
	r := e.call("POST", "/inquiries/"+id+"/perform-simulate-actions", map[string]any{"meta": map[string]any{"simulate-actions": []any{
		map[string]any{"type": "start_inquiry"},
		map[string]any{"type": "create_passed_verification", "data": map[string]any{"verification-template-id": vtmplGovernmentID}},
		map[string]any{"type": "complete_inquiry"},
	}}})
	mustStatus(t, r, 200)
	if r.str("data.attributes.status") != "approved" || r.str("data.relationships.verifications.data.0.type") != "verification/government-id" {
		t.Errorf("simulate: %s", r.raw)
	}
	r = e.call("POST", "/inquiries/"+id+"/perform-simulate-actions", map[string]any{"meta": map[string]any{"simulate-actions": []any{map[string]any{"type": "start_inquiry"}}}})
	mustStatus(t, r, 422)
}

func TestVerificationShapes(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(TemplateKYC, "", map[string]any{"name-first": "Jane", "birthdate": "1990-01-01", "address-country-code": "US"})
	if err := e.sb.Complete(id, true); err != nil {
		t.Fatal(err)
	}
	r := e.call("GET", "/inquiries/"+id, nil)
	vers := r.get("data.relationships.verifications.data").([]any)
	if len(vers) != 3 {
		t.Fatalf("verifications %v", vers)
	}
	wantTypes := []string{"verification/database", "verification/government-id", "verification/selfie"}
	for i, v := range vers {
		typ, vid := jpath(v, "type").(string), jpath(v, "id").(string)
		if typ != wantTypes[i] || !idRe("ver_").MatchString(vid) {
			t.Errorf("verification %d: %s %s", i, typ, vid)
		}
		vr := e.call("GET", "/verifications/"+vid, nil)
		mustStatus(t, vr, 200)
		if vr.str("data.type") != typ || vr.str("data.attributes.status") != "passed" || vr.str("data.relationships.inquiry.data.id") != id {
			t.Errorf("verification %s: %s", vid, vr.raw)
		}
		for _, k := range []string{"created-at", "submitted-at", "completed-at"} {
			if !timeRe.MatchString(vr.str("data.attributes." + k)) {
				t.Errorf("%s %s = %v", vid, k, vr.get("data.attributes."+k))
			}
			if _, ok := vr.get("data.attributes." + k + "-ts").(json.Number); !ok {
				t.Errorf("%s %s-ts = %v", vid, k, vr.get("data.attributes."+k+"-ts"))
			}
		}
		checks := vr.get("data.attributes.checks").([]any)
		if len(checks) == 0 {
			t.Errorf("%s has no checks", vid)
		}
		for _, c := range checks {
			cm := c.(map[string]any)
			if _, ok := cm["reasons"].([]any); !ok || cm["name"] == nil || cm["requirement"] == nil || cm["metadata"] == nil {
				t.Errorf("check %v", cm)
			}
			switch cm["status"] {
			case "passed", "not_applicable":
			default:
				t.Errorf("passing verification has check %v", cm)
			}
		}
		if strings.HasPrefix(typ, "verification/government-id") {
			if vr.str("data.attributes.id-class") != "dl" || vr.str("data.attributes.name-first") != "ALEXANDER" || vr.str("data.relationships.verification-template.data.id") != vtmplGovernmentID {
				t.Errorf("government id: %s", vr.raw)
			}
			mustStatus(t, e.call("GET", "/verification/government-ids/"+vid, nil), 200)
			mustStatus(t, e.call("GET", "/verification/selfies/"+vid, nil), 404)
		}
	}
	// Sandbox: names overwritten to Alexander J Sample after the government ID.
	if r.str("data.attributes.name-first") != "Alexander" || r.str("data.attributes.name-last") != "Sample" {
		t.Errorf("names after completion: %s %s", r.str("data.attributes.name-first"), r.str("data.attributes.name-last"))
	}
	var included []string
	for _, o := range r.get("included").([]any) {
		included = append(included, jpath(o, "type").(string))
	}
	if !strings.Contains(strings.Join(included, ","), "verification/selfie") {
		t.Errorf("retrieve should include verifications by default: %v", included)
	}

	f := e.create(TemplateKYC, "", nil)
	e.sb.Complete(f, false)
	r = e.call("GET", "/inquiries/"+f, nil)
	vid := r.str("data.relationships.verifications.data.0.id")
	vr := e.call("GET", "/verifications/"+vid, nil)
	if vr.str("data.attributes.status") != "failed" {
		t.Errorf("failing verification: %s", vr.raw)
	}
	failedRequired := false
	for _, c := range vr.get("data.attributes.checks").([]any) {
		if jpath(c, "status") == "failed" && jpath(c, "requirement") == "required" && len(jpath(c, "reasons").([]any)) > 0 {
			failedRequired = true
		}
	}
	if !failedRequired {
		t.Errorf("failed verification without a failed required check: %s", vr.raw)
	}
}

// TestExpiry runs in a testing/synctest bubble: time is virtual, so the
// sleeps below advance it exactly, with every expiry timer due by then fired.
func TestExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rc := newMemReceiver(nil)
		e := newMemEnv(t, Options{InquiryExpiry: 300 * time.Millisecond, WebhookURL: memReceiverURL, WebhookSecret: "s",
			WebhookTransport: handlerTransport{rc}})
		id := e.create(TemplateKYC, "", nil)
		other := e.create(TemplateKYC, "", nil)
		e.sb.Complete(other, true)
		rc.waitFor(t, "inquiry.expired", func(rs []hookReq) bool {
			for _, r := range rs {
				if eventName(t, r) == "inquiry.expired" && eventField(t, r, "data.attributes.payload.data.id") == id {
					return true
				}
			}
			return false
		})
		if st := e.status(id); st != "expired" {
			t.Errorf("status %s, want expired", st)
		}
		if st := e.status(other); st != "approved" {
			t.Errorf("finished inquiries do not expire: %s", st)
		}
		// Per-inquiry override, and the lazy check on read.
		r := e.call("POST", "/inquiries", map[string]any{"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": TemplateKYC}},
			"meta": map[string]any{"expiration-after-create-interval-seconds": 3600}})
		long := r.str("data.id")
		time.Sleep(400 * time.Millisecond) // virtual: past the template's 300 ms
		if st := e.status(long); st != "created" {
			t.Errorf("override: %s", st)
		}
		// Resume restarts the clock (from-resume interval).
		r = e.call("POST", "/inquiries/"+id+"/resume", nil)
		if r.str("data.attributes.status") != "pending" {
			t.Fatalf("resume: %s", r.raw)
		}
		time.Sleep(250 * time.Millisecond) // virtual: short of the 300 ms from resume
		if st, _ := e.sb.Inquiry(id); st != "pending" {
			t.Errorf("resumed inquiry expired early: %s", st)
		}
		time.Sleep(100 * time.Millisecond)
		if st, _ := e.sb.Inquiry(id); st != "expired" {
			t.Errorf("resumed inquiry should expire again: %s", st)
		}
	})
}

func TestKeyInflectionOfRequests(t *testing.T) {
	for in, want := range map[string]string{
		"inquiry-template-id":              "inquiry-template-id",
		"inquiry_template_id":              "inquiry-template-id",
		"inquiryTemplateId":                "inquiry-template-id",
		"autoCreateAccountReferenceId":     "auto-create-account-reference-id",
		"auto_create_account_reference_id": "auto-create-account-reference-id",
		"addressStreet1":                   "address-street-1",
		"address_street_1":                 "address-street-1",
		"employee1":                        "employee1",
	} {
		if got := kebab(in); got != want {
			t.Errorf("kebab(%q) = %q, want %q", in, got, want)
		}
	}
	e := newEnv(t, Options{})
	r := e.call("POST", "/inquiries", `{"data":{"attributes":{"inquiryTemplateId":"`+TemplateKYC+`","fields":{"nameFirst":"Camel","address_street_1":"1 Main St"}}},"meta":{"auto_create_account_reference_id":"snake"}}`)
	mustStatus(t, r, 201)
	if r.str("data.attributes.reference-id") != "snake" || r.str("data.attributes.name-first") != "Camel" || r.str("data.attributes.address-street-1") != "1 Main St" {
		t.Errorf("inflected request: %s", r.raw)
	}
}

// TestAttributeFieldsOnCreateAndUpdate: create and update read fields alike,
// from data.attributes.fields and from top-level PII attributes.
func TestAttributeFieldsOnCreateAndUpdate(t *testing.T) {
	e := newEnv(t, Options{})
	attrs := func(a map[string]any) map[string]any {
		a["inquiry-template-id"] = TemplateKYC
		return map[string]any{"data": map[string]any{"attributes": a}}
	}
	r := e.call("POST", "/inquiries", attrs(map[string]any{"fields": "Jane"}))
	mustStatus(t, r, 400)
	if d := r.str("errors.0.details"); d != "data.attributes.fields must be an object" {
		t.Errorf("create: details %q", d)
	}
	r = e.call("POST", "/inquiries", attrs(map[string]any{"name_first": "Jane", "fields": map[string]any{"name-last": "Doe"}}))
	mustStatus(t, r, 201)
	id := r.str("data.id")
	if jpath(r.doc, "data.attributes.fields.name-first.value") != "Jane" || jpath(r.doc, "data.attributes.fields.name-last.value") != "Doe" {
		t.Errorf("create: fields %s", r.raw)
	}
	r = e.call("PATCH", "/inquiries/"+id, map[string]any{"data": map[string]any{"attributes": map[string]any{"fields": 1}}})
	mustStatus(t, r, 400)
	if d := r.str("errors.0.details"); d != "data.attributes.fields must be an object" {
		t.Errorf("update: details %q", d)
	}
	r = e.call("PATCH", "/inquiries/"+id, map[string]any{"data": map[string]any{"attributes": map[string]any{
		"nameFirst": "Janet", "fields": map[string]any{"birthdate": "1990-02-03"}}}})
	mustStatus(t, r, 200)
	if jpath(r.doc, "data.attributes.fields.name-first.value") != "Janet" || jpath(r.doc, "data.attributes.fields.birthdate.value") != "1990-02-03" {
		t.Errorf("update: fields %s", r.raw)
	}
}
