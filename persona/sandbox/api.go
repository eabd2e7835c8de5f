package sandbox

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

func itoa(i int) string { return strconv.Itoa(i) }

// apiCall is one API request as the handlers see it.
type apiCall struct {
	r    *http.Request
	q    url.Values
	doc  map[string]any // the JSON body, nil when empty
	id   string         // the path's object id, if any
	base string         // the sandbox's public base URL
}

type apiResult struct {
	status int
	body   any
}

type apiError struct {
	Title   string     `json:"title"`
	Details string     `json:"details,omitempty"`
	Source  *errSource `json:"source,omitempty"`
}

type errSource struct {
	Pointer string `json:"pointer"`
}

func errResult(status int, title, details string) apiResult {
	return apiResult{status, map[string]any{"errors": []apiError{{Title: title, Details: details}}}}
}

func errPointer(status int, title, details, pointer string) apiResult {
	return apiResult{status, map[string]any{"errors": []apiError{{Title: title, Details: details, Source: &errSource{pointer}}}}}
}

func badRequest(details string) apiResult { return errResult(400, "Bad Request", details) }
func notFound() apiResult                 { return errResult(404, "Record not found", "") }
func conflict(details string) apiResult   { return errResult(409, "Conflict", details) }
func invalid(details, pointer string) apiResult {
	return errPointer(422, "Record invalid", details, pointer)
}

const (
	msgUnauthenticated = "Must be authenticated to access this endpoint"
	msgTemplateMissing = "You must pass in either template-id OR inquiry-template-id OR inquiry-template-version-id"
)

// apiRoute is one endpoint. Its pattern (method and path under /api/v1) is
// also the key Stats.Calls counts it under.
type apiRoute struct {
	pattern string
	handle  func(*Sandbox, *apiCall) apiResult
}

// apiRoutes is the API's route table.
var apiRoutes = []apiRoute{
	{"GET /inquiries", (*Sandbox).apiListInquiries},
	{"POST /inquiries", (*Sandbox).apiCreateInquiry},
	{"GET /inquiries/{id}", (*Sandbox).apiRetrieveInquiry},
	{"PATCH /inquiries/{id}", (*Sandbox).apiUpdateInquiry},
	{"DELETE /inquiries/{id}", (*Sandbox).apiRedactInquiry},
	{"POST /inquiries/{id}/approve", (*Sandbox).apiApprove},
	{"POST /inquiries/{id}/decline", (*Sandbox).apiDecline},
	{"POST /inquiries/{id}/mark-for-review", (*Sandbox).apiMarkForReview},
	{"POST /inquiries/{id}/expire", (*Sandbox).apiExpire},
	{"POST /inquiries/{id}/resume", (*Sandbox).apiResume},
	{"POST /inquiries/{id}/generate-one-time-link", (*Sandbox).apiOneTimeLink},
	{"POST /inquiries/{id}/add-tag", (*Sandbox).apiAddTag},
	{"POST /inquiries/{id}/remove-tag", (*Sandbox).apiRemoveTag},
	{"POST /inquiries/{id}/set-tags", (*Sandbox).apiSetTags},
	{"POST /inquiries/{id}/perform-simulate-actions", (*Sandbox).apiSimulate},
	{"GET /verifications/{id}", apiRetrieveVerification("")},
	{"GET /verification/government-ids/{id}", apiRetrieveVerification("verification/government-id")},
	{"GET /verification/selfies/{id}", apiRetrieveVerification("verification/selfie")},
	{"GET /verification/databases/{id}", apiRetrieveVerification("verification/database")},
	{"GET /inquiry-templates", (*Sandbox).apiListTemplates},
	{"GET /inquiry-templates/{id}", (*Sandbox).apiRetrieveTemplate},
	{"GET /inquiry-sessions/{id}", (*Sandbox).apiRetrieveSession},
	{"GET /accounts/{id}", (*Sandbox).apiRetrieveAccount},
}

// newAPIMux routes /api/v1 with every route, and every miss, inside
// s.endpoint. ServeMux's own 405 and 404 are plain text, so a pattern with
// no method answers the other methods of a known path, and "/" the rest.
func (s *Sandbox) newAPIMux() *http.ServeMux {
	mux := http.NewServeMux()
	methods := map[string][]string{} // path → the methods it serves
	var paths []string
	for _, rt := range apiRoutes {
		method, path, _ := strings.Cut(rt.pattern, " ")
		if methods[path] == nil {
			paths = append(paths, path)
		}
		methods[path] = append(methods[path], method)
		mux.Handle(method+" /api/v1"+path, s.endpoint(rt.pattern, rt.handle, nil))
	}
	for _, path := range paths {
		allow := methods[path]
		sort.Strings(allow)
		h := s.endpoint("", nil, allow)
		mux.Handle("/api/v1"+path, h)
		// A GET pattern also matches HEAD, which the API does not serve.
		if slices.Contains(allow, http.MethodGet) {
			mux.Handle("HEAD /api/v1"+path, h)
		}
	}
	mux.Handle("/", s.endpoint("", nil, nil))
	return mux
}

// sentURLKey carries the request's URL, as sent, past routing.
type sentURLKey struct{}

// serveAPI routes /api/v1/... as Persona does: slashes at either end of the
// path are ignored and the decoded path is split on "/" ("a%2Fb" is two
// segments). ServeMux would redirect a path with an empty, "." or ".."
// segment to its cleaned form, so segments reach it with their dots escaped,
// and an empty one as "." (neither is the id of anything).
func (s *Sandbox) serveAPI(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/api/v1"), "/"), "/")
	for i, seg := range segs {
		if seg == "" && len(segs) > 1 {
			seg = "."
		}
		segs[i] = strings.ReplaceAll(url.PathEscape(seg), ".", "%2E")
	}
	u := *r.URL
	u.RawPath = "/api/v1/" + strings.Join(segs, "/")
	u.Path, _ = url.PathUnescape(u.RawPath)
	routed := r.WithContext(context.WithValue(r.Context(), sentURLKey{}, r.URL))
	routed.URL = &u
	s.api.ServeHTTP(w, routed)
}

// endpoint wraps one route in the work every API call shares: headers,
// call counting, latency, 401, 429, injected 5xx, body limits, then (with no
// handle) 405 with allow or 404, then idempotency and the handler under s.mu.
func (s *Sandbox) endpoint(pattern string, handle func(*Sandbox, *apiCall) apiResult, allow []string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if sent, ok := r.Context().Value(sentURLKey{}).(*url.URL); ok {
			r.URL = sent // matched already: the rest sees the request as sent
		}
		s.counters.apiCalls.Add(1)
		reqID := newID("req_")
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
		h.Set("Pragma", "no-cache")
		h.Set("Expires", "Fri, 01 Jan 1990 00:00:00 GMT")
		h.Set("Request-Id", reqID)

		if handle != nil {
			s.countCall(pattern)
		} else {
			s.countCall(r.Method + " (unknown)")
		}

		knobs := s.Knobs()
		if knobs.Latency > 0 {
			t := time.NewTimer(knobs.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}

		if !s.authorized(r) {
			s.counters.unauthorized.Add(1)
			s.rl.take(time.Now(), knobs.RateLimitPerMinute, false).set(h)
			writeJSON(w, errResult(http.StatusUnauthorized, msgUnauthenticated, ""))
			return
		}
		rs := s.rl.take(time.Now(), knobs.RateLimitPerMinute, true)
		rs.set(h)
		if !rs.allowed {
			s.counters.rateLimited.Add(1)
			writeJSON(w, errResult(http.StatusTooManyRequests, "Rate limit exceeded",
				"You have hit your rate limit of "+itoa(rs.limit)+" requests / min. Please reach out to support@withpersona.com if you need this changed."))
			return
		}
		if knobs.ErrorRate > 0 && rand.Float64() < knobs.ErrorRate {
			s.counters.injected.Add(1)
			status := http.StatusServiceUnavailable
			if rand.IntN(2) == 0 {
				status = http.StatusInternalServerError
			}
			writeJSON(w, errResult(status, "Service unavailable", ""))
			return
		}

		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
		if err != nil {
			writeJSON(w, badRequest("The request body could not be read"))
			return
		}
		if len(body) > 1<<20 {
			writeJSON(w, errResult(http.StatusRequestEntityTooLarge, "Payload Too Large", "The request body must be under 1 MB"))
			return
		}
		if handle == nil {
			if allow != nil {
				h.Set("Allow", strings.Join(allow, ", "))
				writeJSON(w, errResult(http.StatusMethodNotAllowed, "Method Not Allowed", r.Method+" is not supported on "+r.URL.Path))
				return
			}
			writeJSON(w, errResult(http.StatusNotFound, "Not Found", "No route matches "+r.Method+" "+r.URL.Path))
			return
		}

		key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
		idempotent := r.Method == http.MethodPost && key != ""
		finished := false
		if idempotent {
			prev, outcome := s.idem.begin(key, fingerprint(r, body), time.Now())
			switch outcome {
			case idemReplay:
				s.counters.replays.Add(1)
				h.Set("Request-Id", prev.requestID)
				w.WriteHeader(prev.status)
				w.Write(prev.body)
				return
			case idemMismatch:
				writeJSON(w, errResult(http.StatusUnprocessableEntity, "Unprocessable entity",
					"Idempotency-Key "+strconv.Quote(key)+" was already used with different parameters; use a new key for a different request"))
				return
			case idemInFlight:
				writeJSON(w, conflict("A request with this Idempotency-Key is still being processed; retry later"))
				return
			}
			// A handler that panics leaves no answer: free the key for a retry.
			defer func() {
				if !finished {
					s.idem.abandon(key)
				}
			}()
		}

		c := &apiCall{r: r, q: r.URL.Query(), id: r.PathValue("id"), base: s.baseURL(r)}
		var res apiResult
		if doc, bad := parseBody(body); bad != nil {
			res = *bad
		} else {
			c.doc = doc
			res = s.handleLocked(handle, c)
		}
		out, err := json.Marshal(res.body)
		if err != nil {
			writeJSON(w, errResult(http.StatusInternalServerError, "Service unavailable", ""))
			return
		}
		if idempotent {
			s.idem.finish(key, res.status, out, reqID)
			finished = true
		}
		w.WriteHeader(res.status)
		w.Write(out)
	}
}

func (s *Sandbox) countCall(pattern string) {
	s.callsMu.Lock()
	s.calls[pattern]++
	s.callsMu.Unlock()
}

func (s *Sandbox) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	scheme, key, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	key = strings.TrimSpace(key)
	return subtle.ConstantTimeCompare([]byte(key), []byte(s.apiKey)) == 1
}

// handleLocked runs a handler with s.mu held (released even if it panics).
func (s *Sandbox) handleLocked(handle func(*Sandbox, *apiCall) apiResult, c *apiCall) apiResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	return handle(s, c)
}

func writeJSON(w http.ResponseWriter, res apiResult) {
	b, _ := json.Marshal(res.body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(res.status)
	w.Write(b)
}

func parseBody(body []byte) (map[string]any, *apiResult) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil || d.More() {
		r := badRequest("The request body is not valid JSON")
		return nil, &r
	}
	m, ok := v.(map[string]any)
	if !ok {
		r := badRequest("The request body must be a JSON object")
		return nil, &r
	}
	return m, nil
}

// ---- request helpers ----

var camelBoundary = regexp.MustCompile(`([a-z0-9])([A-Z])|([a-zA-Z])([0-9]+)`)

// kebab normalizes a request key written in snake_case, camelCase or
// kebab-case (Persona accepts all three) to kebab-case.
func kebab(k string) string {
	if strings.ContainsAny(k, "_") {
		return strings.ReplaceAll(k, "_", "-")
	}
	if strings.IndexFunc(k, unicode.IsUpper) >= 0 {
		k = camelBoundary.ReplaceAllString(k, "$1$3-$2$4")
		return strings.ToLower(k)
	}
	return k
}

func normalize(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[kebab(k)] = v
	}
	return out
}

// section returns doc[key] as an object with kebab-case keys.
func section(doc map[string]any, key string) (map[string]any, *apiResult) {
	v, ok := doc[key]
	if !ok || v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		r := badRequest(key + " must be an object")
		return nil, &r
	}
	return normalize(m), nil
}

func (c *apiCall) dataAttributes() (map[string]any, *apiResult) {
	data, bad := section(c.doc, "data")
	if bad != nil {
		return nil, bad
	}
	a, ok := data["attributes"]
	if !ok || a == nil {
		return map[string]any{}, nil
	}
	m, ok := a.(map[string]any)
	if !ok {
		r := badRequest("data.attributes must be an object")
		return nil, &r
	}
	return normalize(m), nil
}

func (c *apiCall) meta() (map[string]any, *apiResult) { return section(c.doc, "meta") }

// str reads an optional string; name is used in the error's details.
func str(m map[string]any, key, name string) (string, bool, *apiResult) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", false, nil
	}
	sv, isStr := v.(string)
	if !isStr {
		r := badRequest(name + " must be a string")
		return "", true, &r
	}
	return sv, true, nil
}

func boolean(m map[string]any, key, name string, def bool) (bool, *apiResult) {
	v, ok := m[key]
	if !ok || v == nil {
		return def, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		r := badRequest(name + " must be a boolean")
		return def, &r
	}
	return b, nil
}

func seconds(m map[string]any, key, name string) (time.Duration, *apiResult) {
	v, ok := m[key]
	if !ok || v == nil {
		return 0, nil
	}
	n, isNum := v.(json.Number)
	i, err := n.Int64()
	if !isNum || err != nil || i <= 0 {
		r := badRequest(name + " must be a positive integer")
		return 0, &r
	}
	return time.Duration(i) * time.Second, nil
}

func stringList(v any, name string) ([]string, *apiResult) {
	if v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		r := badRequest(name + " must be an array")
		return nil, &r
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		sv, ok := e.(string)
		if !ok {
			r := badRequest(name + " must be an array of strings")
			return nil, &r
		}
		out = append(out, sv)
	}
	return out, nil
}

var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// parseFields reads plain field values ({key: value}; a {type, value} wrapper
// is tolerated) and checks the standard fields' types and formats.
func parseFields(raw map[string]any, pointer string) (map[string]field, []string, *apiResult) {
	out := map[string]field{}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	order := make([]string, 0, len(keys))
	for _, rawKey := range keys {
		v := raw[rawKey]
		k := kebab(rawKey)
		if m, ok := v.(map[string]any); ok {
			if inner, has := m["value"]; has && len(m) <= 2 {
				if _, typed := m["type"]; typed || len(m) == 1 {
					v = inner
				}
			}
		}
		f, bad := fieldValue(k, v, pointer+"/"+k)
		if bad != nil {
			return nil, nil, bad
		}
		out[k] = f
		order = append(order, k)
	}
	return out, order, nil
}

func fieldValue(k string, v any, pointer string) (field, *apiResult) {
	if typ, std := isStandardField(k); std {
		var sv string
		switch x := v.(type) {
		case nil:
			return field{Type: typ}, nil
		case string:
			sv = strings.TrimSpace(x)
		case json.Number:
			sv = x.String()
		default:
			r := invalid("fields."+k+" must be a string", pointer)
			return field{}, &r
		}
		if sv == "" {
			return field{Type: typ}, nil
		}
		switch k {
		case "birthdate":
			if _, err := time.Parse("2006-01-02", sv); err != nil || !datePattern.MatchString(sv) {
				r := invalid("fields.birthdate must be a date in the format YYYY-MM-DD", pointer)
				return field{}, &r
			}
		case "address-country-code":
			if len(sv) != 2 || !isLetters(sv) {
				r := invalid("fields.address-country-code must be an ISO 3166-1 alpha-2 country code", pointer)
				return field{}, &r
			}
			sv = strings.ToUpper(sv)
		}
		return field{Type: typ, Value: sv}, nil
	}
	switch x := v.(type) {
	case nil:
		return field{Type: "string"}, nil
	case string:
		return field{Type: "string", Value: x}, nil
	case bool:
		return field{Type: "boolean", Value: x}, nil
	case json.Number:
		return field{Type: "number", Value: x}, nil
	case []any:
		return field{Type: "array", Value: x}, nil
	case map[string]any:
		return field{Type: "hash", Value: x}, nil
	}
	return field{Type: "string", Value: v}, nil
}

func isLetters(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// ---- include and sparse fieldsets ----

var defaultIncludes = []string{"sessions", "verifications", "inquiry-template"}

var knownIncludes = map[string]bool{
	"account": true, "template": true, "inquiry-template": true, "inquiry-template-version": true,
	"inquiry-template.latest-published-version": true, "transaction": true, "reviewer": true,
	"reports": true, "verifications": true, "sessions": true, "documents": true, "selfies": true,
}

// includes returns the include paths of the request, or def without ?include.
func (c *apiCall) includes(def []string) ([]string, *apiResult) {
	vals, present := c.q["include"]
	if !present {
		return def, nil
	}
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if !knownIncludes[p] {
				r := badRequest("include " + strconv.Quote(p) + " is not a relationship of inquiry")
				return nil, &r
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// included serializes q's related objects named by paths (deduplicated).
func (s *Sandbox) included(q *inquiry, paths []string) []obj {
	out := []obj{}
	seen := map[string]bool{}
	add := func(o obj) {
		t, _ := o.get("type")
		id, _ := o.get("id")
		k := t.(string) + "/" + id.(string)
		if !seen[k] {
			seen[k] = true
			out = append(out, o)
		}
	}
	for _, p := range paths {
		switch p {
		case "account":
			if a := s.accounts[q.accountID]; a != nil {
				add(accountResource(a))
			}
		case "inquiry-template":
			add(templateResource(q.tmpl))
		case "inquiry-template-version":
			add(templateVersionResource(q.tmpl))
		case "inquiry-template.latest-published-version":
			add(templateResource(q.tmpl))
			add(templateVersionResource(q.tmpl))
		case "verifications":
			for _, id := range q.verifications {
				if v := s.verifs[id]; v != nil {
					add(s.verificationResource(v))
				}
			}
		case "sessions":
			for _, id := range q.sessions {
				if ss := s.sessions[id]; ss != nil {
					add(sessionResource(ss))
				}
			}
		}
	}
	return out
}

// sparse applies ?fields[type]=a,b,fields.x to a resource's attributes.
func (c *apiCall) sparse(o obj) obj {
	typ, _ := o.get("type")
	want, ok := c.q["fields["+typ.(string)+"]"]
	if !ok {
		return o
	}
	keep := map[string]bool{}
	sub := map[string]bool{}
	for _, v := range want {
		for _, k := range strings.Split(v, ",") {
			k = strings.TrimSpace(k)
			if rest, isSub := strings.CutPrefix(k, "fields."); isSub {
				sub[rest] = true
			} else if k != "" {
				keep[k] = true
			}
		}
	}
	out := make(obj, 0, len(o))
	for _, e := range o {
		if e.k != "attributes" {
			out = append(out, e)
			continue
		}
		attrs := obj{}
		for _, a := range e.v.(obj) {
			switch {
			case keep[a.k]:
				attrs = append(attrs, a)
			case a.k == "fields" && len(sub) > 0:
				fs := obj{}
				for _, f := range a.v.(obj) {
					if sub[f.k] {
						fs = append(fs, f)
					}
				}
				attrs = append(attrs, kv{"fields", fs})
			}
		}
		out = append(out, kv{"attributes", attrs})
	}
	return out
}

// inquiryDoc builds {data, included?, meta?} for q.
func (s *Sandbox) inquiryDoc(c *apiCall, status int, q *inquiry, def []string, meta obj) apiResult {
	inc, bad := c.includes(def)
	if bad != nil {
		return *bad
	}
	doc := obj{{"data", c.sparse(s.inquiryResource(q))}}
	if len(inc) > 0 {
		objs := s.included(q, inc)
		for i := range objs {
			objs[i] = c.sparse(objs[i])
		}
		doc = append(doc, kv{"included", objs})
	}
	if len(meta) > 0 {
		doc = append(doc, kv{"meta", meta})
	}
	return apiResult{status, doc}
}

func (s *Sandbox) findInquiry(id string) *inquiry {
	q := s.inquiries[id]
	if q != nil {
		s.checkExpiry(q)
	}
	return q
}

// ---- inquiries ----

func (s *Sandbox) apiCreateInquiry(c *apiCall) apiResult {
	if c.doc == nil {
		return badRequest("data must be filled")
	}
	attrs, bad := c.dataAttributes()
	if bad != nil {
		return *bad
	}
	meta, bad := c.meta()
	if bad != nil {
		return *bad
	}

	var ids [3]string
	for i, k := range []string{"template-id", "inquiry-template-id", "inquiry-template-version-id"} {
		v, _, bad := str(attrs, k, "data.attributes."+k)
		if bad != nil {
			return *bad
		}
		ids[i] = strings.TrimSpace(v)
	}
	given := 0
	for _, v := range ids {
		if v != "" {
			given++
		}
	}
	if given != 1 {
		return badRequest(msgTemplateMissing)
	}
	var tmpl *tmplDef
	switch {
	case ids[0] != "":
		return errPointer(404, "Record not found", "data.attributes.template_id is not found", "/data/attributes/template-id")
	case ids[1] != "":
		if tmpl = s.tmplByID[ids[1]]; tmpl == nil {
			return errPointer(404, "Record not found", "data.attributes.inquiry_template_id is not found", "/data/attributes/inquiry-template-id")
		}
	default:
		if tmpl = s.tmplByVersion[ids[2]]; tmpl == nil {
			return errPointer(404, "Record not found", "data.attributes.inquiry_template_version_id is not found", "/data/attributes/inquiry-template-version-id")
		}
	}

	in := createInput{tmpl: tmpl, creator: "API"}
	attrRef, _, bad := str(attrs, "reference-id", "data.attributes.reference-id")
	if bad != nil {
		return *bad
	}
	metaRef, metaRefSet, bad := str(meta, "auto-create-account-reference-id", "meta.auto-create-account-reference-id")
	if bad != nil {
		return *bad
	}
	autoAccount, bad := boolean(meta, "auto-create-account", "meta.auto-create-account", true)
	if bad != nil {
		return *bad
	}
	if _, typeSet := meta["auto-create-account-type-id"]; !autoAccount && (metaRefSet || typeSet) {
		return badRequest("meta.auto-create-account-reference-id and meta.auto-create-account-type-id require meta.auto-create-account to be true")
	}
	in.referenceID = strings.TrimSpace(attrRef)
	if metaRefSet && strings.TrimSpace(metaRef) != "" {
		in.referenceID = strings.TrimSpace(metaRef)
	}
	accountID, _, bad := str(attrs, "account-id", "data.attributes.account-id")
	if bad != nil {
		return *bad
	}
	if creator, _, bad := str(attrs, "creator-email-address", "data.attributes.creator-email-address"); bad != nil {
		return *bad
	} else if creator != "" {
		in.creator = creator
	}
	if in.redirectURI, _, bad = str(attrs, "redirect-uri", "data.attributes.redirect-uri"); bad != nil {
		return *bad
	}
	if in.redirectURI != "" && !safeRedirect(in.redirectURI) {
		return invalid("data.attributes.redirect-uri must be an absolute URI", "/data/attributes/redirect-uri")
	}
	if note, set, bad := str(attrs, "note", "data.attributes.note"); bad != nil {
		return *bad
	} else if set {
		in.note = &note
	}
	if in.tags, bad = stringList(attrs["tags"], "data.attributes.tags"); bad != nil {
		return *bad
	}

	// Fields: data.attributes.fields, plus top-level PII attributes (accepted
	// before 2025-10-27).
	rawFields := map[string]any{}
	for _, f := range standardFields {
		if v, ok := attrs[f.key]; ok {
			rawFields[f.key] = v
		}
	}
	if fv, ok := attrs["fields"]; ok && fv != nil {
		fm, isObj := fv.(map[string]any)
		if !isObj {
			return badRequest("data.attributes.fields must be an object")
		}
		for k, v := range fm {
			rawFields[k] = v
		}
	}
	if in.fields, in.fieldOrder, bad = parseFields(rawFields, "/data/attributes/fields"); bad != nil {
		return *bad
	}

	if in.expCreate, bad = seconds(meta, "expiration-after-create-interval-seconds", "meta.expiration-after-create-interval-seconds"); bad != nil {
		return *bad
	}
	if in.expStart, bad = seconds(meta, "expiration-after-start-interval-seconds", "meta.expiration-after-start-interval-seconds"); bad != nil {
		return *bad
	}
	if in.expResume, bad = seconds(meta, "expiration-after-resume-interval-seconds", "meta.expiration-after-resume-interval-seconds"); bad != nil {
		return *bad
	}
	if in.otlExpiry, bad = seconds(meta, "one-time-link-expiration-seconds", "meta.one-time-link-expiration-seconds"); bad != nil {
		return *bad
	}
	wantSession, bad := boolean(meta, "auto-create-inquiry-session", "meta.auto-create-inquiry-session", false)
	if bad != nil {
		return *bad
	}
	wantLink, bad := boolean(meta, "auto-create-one-time-link", "meta.auto-create-one-time-link", false)
	if bad != nil {
		return *bad
	}
	if _, bad := c.includes(nil); bad != nil {
		return *bad
	}

	switch {
	case accountID != "":
		a := s.accounts[accountID]
		if a == nil {
			return errPointer(404, "Record not found", "data.attributes.account_id is not found", "/data/attributes/account-id")
		}
		in.accountID = a.id
		if in.referenceID == "" {
			in.referenceID = a.referenceID
		}
	case autoAccount:
		in.accountID = s.accountFor(in.referenceID).id
	}

	q := s.createInquiry(in)
	var meta2 obj
	if wantSession {
		ss := s.newSession(q, "")
		meta2 = append(meta2, kv{"session-token", s.sessionToken(ss, c.base)})
	}
	if wantLink {
		l := s.oneTimeLinkFor(q, 0)
		meta2 = append(meta2,
			kv{"one-time-link", c.base + "/verify?code=" + l.code},
			kv{"one-time-link-short", c.base + "/verify?code=" + l.short})
	}
	return s.inquiryDoc(c, http.StatusCreated, q, nil, meta2)
}

func (s *Sandbox) apiRetrieveInquiry(c *apiCall) apiResult {
	q := s.findInquiry(c.id)
	if q == nil {
		return notFound()
	}
	return s.inquiryDoc(c, http.StatusOK, q, defaultIncludes, nil)
}

func (s *Sandbox) apiUpdateInquiry(c *apiCall) apiResult {
	q := s.findInquiry(c.id)
	if q == nil {
		return notFound()
	}
	attrs, bad := c.dataAttributes()
	if bad != nil {
		return *bad
	}
	if !q.redactedAt.IsZero() {
		return conflict("Inquiry already redacted")
	}
	var note *string
	noteV, noteSet, bad := str(attrs, "note", "data.attributes.note")
	if bad != nil {
		return *bad
	}
	if noteSet {
		note = &noteV
	}
	_, tagsSet := attrs["tags"]
	tags, bad := stringList(attrs["tags"], "data.attributes.tags")
	if bad != nil {
		return *bad
	}
	rawFields := map[string]any{}
	for _, f := range standardFields {
		if v, ok := attrs[f.key]; ok {
			rawFields[f.key] = v
		}
	}
	if fv, ok := attrs["fields"]; ok && fv != nil {
		fm, isObj := fv.(map[string]any)
		if !isObj {
			return badRequest("data.attributes.fields must be an object")
		}
		for k, v := range fm {
			rawFields[k] = v
		}
	}
	fields, order, bad := parseFields(rawFields, "/data/attributes/fields")
	if bad != nil {
		return *bad
	}
	if _, bad := c.includes(nil); bad != nil {
		return *bad
	}
	if noteSet || (attrs["note"] == nil && hasKey(attrs, "note")) {
		q.note = note
	}
	if tagsSet {
		q.tags = dedupe(tags)
	}
	for _, k := range order {
		q.setField(k, fields[k])
	}
	q.updatedAt = s.clock.stamp()
	return s.inquiryDoc(c, http.StatusOK, q, nil, nil)
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func dedupe(in []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, v := range in {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func (s *Sandbox) apiRedactInquiry(c *apiCall) apiResult {
	q := s.findInquiry(c.id)
	if q == nil {
		return notFound()
	}
	if !q.redactedAt.IsZero() {
		return conflict("Inquiry already redacted")
	}
	s.redact(q)
	return s.inquiryDoc(c, http.StatusOK, q, nil, nil)
}

// ---- list ----

var listFilters = map[string]bool{
	"reference-id": true, "account-id": true, "inquiry-template-id": true, "template-id": true,
	"status": true, "created-at-start": true, "created-at-end": true, "note": true, "inquiry-id": true,
}

func parseTime(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (s *Sandbox) apiListInquiries(c *apiCall) apiResult {
	if _, ok := c.q["include"]; ok {
		return badRequest("include is not supported on list endpoints")
	}
	size := 10
	if v := c.q.Get("page[size]"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return badRequest("page[size] must be an integer between 1 and 100")
		}
		size = n
	}
	after, before := c.q.Get("page[after]"), c.q.Get("page[before]")
	if after != "" && before != "" {
		return badRequest("page[after] and page[before] cannot be used together")
	}

	filters := map[string][]string{}
	for key, vals := range c.q {
		if !strings.HasPrefix(key, "filter[") {
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(key, "filter["), "[]")
		name = strings.TrimSuffix(name, "]")
		if !listFilters[name] {
			return badRequest(key + " is not a supported filter")
		}
		for _, v := range vals {
			if name == "note" || name == "reference-id" || strings.HasPrefix(name, "created-at") {
				filters[name] = append(filters[name], v)
				continue
			}
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					filters[name] = append(filters[name], p)
				}
			}
		}
	}
	if _, ok := filters["note"]; ok && len(filters) > 1 {
		return badRequest("filter[note] must be the only filter")
	}
	if len(filters["inquiry-id"]) > 100 {
		return badRequest("filter[inquiry-id] accepts at most 100 ids")
	}
	var start, end time.Time
	if v := filters["created-at-start"]; len(v) > 0 {
		t, ok := parseTime(v[0])
		if !ok {
			return badRequest("filter[created-at-start] must be an ISO 8601 datetime")
		}
		start = t
	}
	if v := filters["created-at-end"]; len(v) > 0 {
		t, ok := parseTime(v[0])
		if !ok {
			return badRequest("filter[created-at-end] must be an ISO 8601 datetime")
		}
		end = t
	}
	set := func(name string) map[string]bool {
		vals, ok := filters[name]
		if !ok {
			return nil
		}
		m := map[string]bool{}
		for _, v := range vals {
			m[v] = true
		}
		return m
	}
	statuses, templates, legacy, accountsF, ids := set("status"), set("inquiry-template-id"), set("template-id"), set("account-id"), set("inquiry-id")
	refs, notes := filters["reference-id"], filters["note"]

	match := func(q *inquiry) bool {
		switch {
		case statuses != nil && !statuses[q.status],
			templates != nil && !templates[q.tmpl.id],
			legacy != nil, // no legacy templates in the sandbox
			accountsF != nil && !accountsF[q.accountID],
			ids != nil && !ids[q.id],
			len(refs) > 0 && q.referenceID != refs[0],
			len(notes) > 0 && (q.note == nil || *q.note != notes[0]),
			!start.IsZero() && q.createdAt.Before(start),
			!end.IsZero() && q.createdAt.After(end):
			return false
		}
		return true
	}

	var cursor *inquiry
	if after != "" || before != "" {
		cursor = s.inquiries[after+before]
		if cursor == nil {
			name := "page[after]"
			if before != "" {
				name = "page[before]"
			}
			return badRequest(name + " must be the id of an inquiry")
		}
	}
	// matched, newest first (creation order reversed).
	var matched []*inquiry
	for i := len(s.order) - 1; i >= 0; i-- {
		q := s.order[i]
		s.checkExpiry(q)
		if match(q) {
			matched = append(matched, q)
		}
	}
	var page []*inquiry
	switch {
	case before != "":
		var newer []*inquiry
		for _, q := range matched {
			if q.seq > cursor.seq {
				newer = append(newer, q)
			}
		}
		if len(newer) > size {
			newer = newer[len(newer)-size:]
		}
		page = newer
	default:
		for _, q := range matched {
			if cursor != nil && q.seq >= cursor.seq {
				continue
			}
			page = append(page, q)
			if len(page) == size {
				break
			}
		}
	}
	hiSeq, loSeq := int64(1<<62), int64(-1)
	if len(page) > 0 {
		hiSeq, loSeq = page[0].seq, page[len(page)-1].seq
	} else if cursor != nil {
		hiSeq, loSeq = cursor.seq, cursor.seq
	}
	hasNewer, hasOlder := false, false
	for _, q := range matched {
		if q.seq > hiSeq && (len(page) > 0 || cursor != nil) {
			hasNewer = true
		}
		if q.seq < loSeq {
			hasOlder = true
		}
	}
	link := func(param, id string) any {
		v := url.Values{}
		for k, vals := range c.q {
			if k != "page[after]" && k != "page[before]" {
				v[k] = vals
			}
		}
		v.Set(param, id)
		return "/api/v1/inquiries?" + v.Encode()
	}
	var prev, next any
	first, last := "", ""
	if cursor != nil {
		first, last = cursor.id, cursor.id
	}
	if len(page) > 0 {
		first, last = page[0].id, page[len(page)-1].id
	}
	if hasNewer && first != "" {
		prev = link("page[before]", first)
	}
	if hasOlder && last != "" {
		next = link("page[after]", last)
	}
	data := make([]obj, 0, len(page))
	for _, q := range page {
		data = append(data, c.sparse(s.inquiryResource(q)))
	}
	return apiResult{http.StatusOK, obj{{"data", data}, {"links", obj{{"prev", prev}, {"next", next}}}}}
}

// ---- actions ----

func (s *Sandbox) comment(c *apiCall) (*string, *apiResult) {
	meta, bad := c.meta()
	if bad != nil {
		return nil, bad
	}
	v, set, bad := str(meta, "comment", "meta.comment")
	if bad != nil || !set {
		return nil, bad
	}
	return &v, nil
}

func (s *Sandbox) apiApprove(c *apiCall) apiResult { return s.apiDecide(c, "approved") }
func (s *Sandbox) apiDecline(c *apiCall) apiResult { return s.apiDecide(c, "declined") }

func (s *Sandbox) apiDecide(c *apiCall, status string) apiResult {
	q := s.findInquiry(c.id)
	if q == nil {
		return notFound()
	}
	cm, bad := s.comment(c)
	if bad != nil {
		return *bad
	}
	if _, bad := c.includes(nil); bad != nil {
		return *bad
	}
	if q.status == "approved" || q.status == "declined" {
		return conflict("Inquiry has already been " + q.status)
	}
	s.decide(q, status, cm, nil)
	return s.inquiryDoc(c, http.StatusOK, q, nil, nil)
}

func (s *Sandbox) apiMarkForReview(c *apiCall) apiResult {
	q := s.findInquiry(c.id)
	if q == nil {
		return notFound()
	}
	if _, bad := c.includes(nil); bad != nil {
		return *bad
	}
	switch q.status {
	case "approved", "declined":
		return conflict("Inquiries that are already approved or declined cannot be marked for review")
	case "needs_review":
	default:
		s.markForReview(q)
	}
	return s.inquiryDoc(c, http.StatusOK, q, nil, nil)
}

func (s *Sandbox) apiExpire(c *apiCall) apiResult {
	q := s.findInquiry(c.id)
	if q == nil {
		return notFound()
	}
	if _, bad := c.includes(nil); bad != nil {
		return *bad
	}
	if !q.open() {
		return conflict("Inquiry cannot be expired while " + q.status + "; only created and pending inquiries can be expired")
	}
	s.expire(q)
	return s.inquiryDoc(c, http.StatusOK, q, nil, nil)
}

func (s *Sandbox) apiResume(c *apiCall) apiResult {
	q := s.findInquiry(c.id)
	if q == nil {
		return notFound()
	}
	if _, bad := c.includes(nil); bad != nil {
		return *bad
	}
	if !q.redactedAt.IsZero() {
		return conflict("Inquiry already redacted and cannot be resumed")
	}
	if q.status != "pending" && q.status != "expired" {
		return conflict("Inquiry is " + q.status + "; only pending or expired inquiries can be resumed")
	}
	s.resume(q)
	ss := s.unusedSession(q)
	if ss == nil {
		ss = s.newSession(q, "")
	}
	return s.inquiryDoc(c, http.StatusOK, q, nil, obj{{"session-token", s.sessionToken(ss, c.base)}})
}

func (s *Sandbox) apiOneTimeLink(c *apiCall) apiResult {
	q := s.findInquiry(c.id)
	if q == nil {
		return notFound()
	}
	meta, bad := c.meta()
	if bad != nil {
		return *bad
	}
	exp, bad := seconds(meta, "expires-in-seconds", "meta.expires-in-seconds")
	if bad != nil {
		return *bad
	}
	if _, bad := c.includes(nil); bad != nil {
		return *bad
	}
	if !q.redactedAt.IsZero() {
		return conflict("Inquiry already redacted")
	}
	if q.status == "expired" {
		return conflict("Cannot generate a one-time link for an expired inquiry; resume the inquiry first")
	}
	l := s.oneTimeLinkFor(q, exp)
	return s.inquiryDoc(c, http.StatusOK, q, nil, obj{
		{"one-time-link", c.base + "/verify?code=" + l.code},
		{"one-time-link-short", c.base + "/verify?code=" + l.short},
	})
}

// oneTimeLinkFor returns q's unused, unexpired one-time link, or makes one
// (with a new session). exp 0: the inquiry's override, else 24 h.
func (s *Sandbox) oneTimeLinkFor(q *inquiry, exp time.Duration) *oneTimeLink {
	now := time.Now()
	for _, l := range s.otls {
		if l.inquiryID == q.id && l.firstUsed.IsZero() && now.Before(l.expiresAt) {
			return l
		}
	}
	if exp <= 0 {
		exp = q.otlExpiry
	}
	if exp <= 0 {
		exp = 24 * time.Hour
	}
	ss := s.newSession(q, "")
	l := &oneTimeLink{
		code:      randomString(32),
		short:     strings.ToUpper(randomString(8)),
		inquiryID: q.id,
		sessionID: ss.id,
		expiresAt: now.Add(exp),
	}
	for s.otls[l.short] != nil {
		l.short = strings.ToUpper(randomString(8))
	}
	s.otls[l.code] = l
	s.otls[l.short] = l
	return l
}

func (s *Sandbox) tagNames(c *apiCall, many bool) ([]string, *apiResult) {
	meta, bad := c.meta()
	if bad != nil {
		return nil, bad
	}
	if _, ok := meta["tag-id"]; ok {
		r := badRequest("The sandbox has no tag objects: use meta.tag-name")
		return nil, &r
	}
	v, ok := meta["tag-name"]
	if !ok || v == nil {
		r := badRequest("meta.tag-name is missing")
		return nil, &r
	}
	if sv, isStr := v.(string); isStr && !many {
		return []string{sv}, nil
	}
	if many {
		if sv, isStr := v.(string); isStr {
			return []string{sv}, nil
		}
		return stringList(v, "meta.tag-name")
	}
	r := badRequest("meta.tag-name must be a string")
	return nil, &r
}

func (s *Sandbox) apiAddTag(c *apiCall) apiResult {
	return s.apiTags(c, false, func(q *inquiry, names []string) { q.tags = dedupe(append(q.tags, names...)) })
}

func (s *Sandbox) apiRemoveTag(c *apiCall) apiResult {
	return s.apiTags(c, false, func(q *inquiry, names []string) {
		out := []string{}
		for _, t := range q.tags {
			if t != names[0] {
				out = append(out, t)
			}
		}
		q.tags = out
	})
}

func (s *Sandbox) apiSetTags(c *apiCall) apiResult {
	return s.apiTags(c, true, func(q *inquiry, names []string) { q.tags = dedupe(names) })
}

func (s *Sandbox) apiTags(c *apiCall, many bool, apply func(*inquiry, []string)) apiResult {
	q := s.findInquiry(c.id)
	if q == nil {
		return notFound()
	}
	names, bad := s.tagNames(c, many)
	if bad != nil {
		return *bad
	}
	if _, bad := c.includes(nil); bad != nil {
		return *bad
	}
	apply(q, names)
	q.updatedAt = s.clock.stamp()
	return s.inquiryDoc(c, http.StatusOK, q, nil, nil)
}

// apiSimulate is Persona's Sandbox-only perform-simulate-actions.
func (s *Sandbox) apiSimulate(c *apiCall) apiResult {
	if s.production {
		return errResult(http.StatusForbidden, "Forbidden", "Simulate actions are only available in Sandbox")
	}
	q := s.findInquiry(c.id)
	if q == nil {
		return notFound()
	}
	meta, bad := c.meta()
	if bad != nil {
		return *bad
	}
	raw, ok := meta["simulate-actions"].([]any)
	if !ok || len(raw) == 0 {
		return badRequest("meta.simulate-actions must be a non-empty array")
	}
	if _, bad := c.includes(nil); bad != nil {
		return *bad
	}
	type action struct {
		typ   string
		vtmpl string
	}
	var actions []action
	for i, a := range raw {
		m, ok := a.(map[string]any)
		if !ok {
			return badRequest("meta.simulate-actions[" + itoa(i) + "] must be an object")
		}
		t, _ := m["type"].(string)
		act := action{typ: t}
		if d, ok := m["data"].(map[string]any); ok {
			d = normalize(d)
			act.vtmpl, _ = d["verification-template-id"].(string)
		}
		actions = append(actions, act)
	}
	cannot := func(t string) apiResult {
		return errResult(http.StatusUnprocessableEntity, "Unprocessable entity", "Cannot perform "+t+" on an inquiry that is "+q.status)
	}
	for _, a := range actions {
		switch a.typ {
		case "start_inquiry":
			if q.status != "created" {
				return cannot(a.typ)
			}
			s.start(q)
		case "complete_inquiry", "fail_inquiry":
			if !q.open() {
				return cannot(a.typ)
			}
			if q.status == "created" {
				s.start(q)
			}
			if a.typ == "complete_inquiry" {
				s.complete(q)
			} else {
				s.fail(q)
			}
		case "expire_inquiry":
			if !q.open() {
				return cannot(a.typ)
			}
			s.expire(q)
		case "mark_for_review_inquiry":
			if q.status == "approved" || q.status == "declined" {
				return cannot(a.typ)
			}
			if q.status != "needs_review" {
				s.markForReview(q)
			}
		case "approve_inquiry", "decline_inquiry":
			if q.status == "approved" || q.status == "declined" {
				return cannot(a.typ)
			}
			st := "approved"
			if a.typ == "decline_inquiry" {
				st = "declined"
			}
			s.decide(q, st, nil, nil)
		case "create_passed_verification", "create_failed_verification":
			var step *stepDef
			for i := range flowSteps {
				if flowSteps[i].vtmpl == a.vtmpl {
					step = &flowSteps[i]
				}
			}
			if step == nil {
				return errPointer(404, "Record not found", "data.verification_template_id is not found", "/meta/simulate-actions")
			}
			v := s.newVerification(q, *step, a.typ == "create_passed_verification", stepInput{})
			q.verifications = append(q.verifications, v.id)
			if q.status == "created" {
				s.start(q)
			} else {
				q.updatedAt = s.clock.stamp()
			}
		default:
			return badRequest("Unknown simulate action " + strconv.Quote(a.typ))
		}
	}
	return s.inquiryDoc(c, http.StatusOK, q, nil, nil)
}

// ---- other objects ----

// apiRetrieveVerification answers GET /verifications/{id} (vtype "") and the
// typed paths, which serve only verifications of their type.
func apiRetrieveVerification(vtype string) func(*Sandbox, *apiCall) apiResult {
	return func(s *Sandbox, c *apiCall) apiResult {
		v := s.verifs[c.id]
		if v == nil || vtype != "" && v.vtype != vtype {
			return notFound()
		}
		return apiResult{http.StatusOK, obj{{"data", c.sparse(s.verificationResource(v))}}}
	}
}

const msgTemplatesHidden = "For security reasons, we do not expose organization-level resources like Inquiry Templates in Sandbox via API"

func (s *Sandbox) apiListTemplates(c *apiCall) apiResult {
	if !s.production {
		return errResult(http.StatusForbidden, "Forbidden", msgTemplatesHidden)
	}
	data := []obj{}
	for _, t := range s.templates {
		data = append(data, templateResource(t))
	}
	return apiResult{http.StatusOK, obj{{"data", data}, {"links", obj{{"prev", nil}, {"next", nil}}}}}
}

func (s *Sandbox) apiRetrieveTemplate(c *apiCall) apiResult {
	if !s.production {
		return errResult(http.StatusForbidden, "Forbidden", msgTemplatesHidden)
	}
	t := s.tmplByID[c.id]
	if t == nil {
		return notFound()
	}
	return apiResult{http.StatusOK, obj{{"data", templateResource(t)}}}
}

func (s *Sandbox) apiRetrieveSession(c *apiCall) apiResult {
	ss := s.sessions[c.id]
	if ss == nil {
		return notFound()
	}
	if q := s.inquiries[ss.inquiryID]; q != nil {
		s.checkExpiry(q)
	}
	s.sessionValid(ss)
	return apiResult{http.StatusOK, obj{{"data", sessionResource(ss)}}}
}

func (s *Sandbox) apiRetrieveAccount(c *apiCall) apiResult {
	a := s.accounts[c.id]
	if a == nil {
		return notFound()
	}
	return apiResult{http.StatusOK, obj{{"data", accountResource(a)}}}
}

// safeRedirect accepts absolute URIs (custom schemes included, as Persona
// does) but not script-bearing schemes.
func safeRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "javascript", "data", "vbscript", "file":
		return false
	}
	return true
}
