package sandbox

// The API under /api/v1: the route table, the one wrapper every call goes
// through, and Persona's JSON:API answers and errors. The handlers live in
// api_inquiries.go, api_list.go, api_actions.go and api_objects.go.

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

func itoa(i int) string { return strconv.Itoa(i) }

// apiCall is one API request as the handlers see it.
type apiCall struct {
	q    url.Values
	doc  map[string]any // the JSON body, nil when empty
	id   string         // the path's object id, if any
	base string         // the sandbox's public base URL
	// shape is the request's Persona-Version and Key-Inflection: the answer's form.
	shape shape
}

type apiResult struct {
	status int
	body   any
}

type apiError struct {
	Title   string     `json:"title"`
	Details string     `json:"details,omitempty"`
	Code    string     `json:"code,omitempty"`
	Source  *errSource `json:"source,omitempty"`
	Meta    obj        `json:"meta,omitempty"`
}

type errSource struct {
	Pointer string `json:"pointer"`
}

func errResult(status int, title, details string) apiResult {
	return apiResult{status, map[string]any{"errors": []apiError{{Title: title, Details: details}}}}
}

// errPointer is an error naming the request's part at fault. Persona's 404 answers have no
// source (the error schema of not-found has none), so only 422s use it.
func errPointer(status int, title, details, pointer string) apiResult {
	return apiResult{status, map[string]any{"errors": []apiError{{Title: title, Details: details, Source: &errSource{pointer}}}}}
}

func badRequest(details string) apiResult { return errResult(400, "Bad Request", details) }
func notFound() apiResult                 { return errResult(404, "Record not found", "") }
func conflict(details string) apiResult   { return errResult(409, "Conflict", details) }
func invalid(details, pointer string) apiResult {
	return errPointer(422, "Record invalid", details, pointer)
}

const msgUnauthenticated = "Must be authenticated to access this endpoint"

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
	{"GET /webhooks", (*Sandbox).apiListWebhooks},
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
		if k := r.Header.Get("Idempotency-Key"); k != "" {
			s.callsMu.Lock()
			s.keys[k]++
			s.callsMu.Unlock()
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
		if s.takeThrottle() {
			rs.allowed, rs.remaining, rs.reset = false, 0, 1 // a short burst: clear in a second
		}
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

		sh, bad := shapeOf(r.Header.Get("Persona-Version"), r.Header.Get("Key-Inflection"))
		if bad != nil {
			writeJSON(w, *bad)
			return
		}
		c := &apiCall{q: r.URL.Query(), id: r.PathValue("id"), base: s.baseURL(r), shape: sh}
		var res apiResult
		var out []byte
		if doc, bad := parseBody(body); bad != nil {
			res = *bad
			out, err = json.Marshal(res.body)
		} else {
			c.doc = doc
			// The answer is stored under its key in the same locked step as the change, so a
			// snapshot of the state (persist.go) never holds the change without the answer.
			res, out, err = s.handleLocked(handle, c, func(res apiResult, out []byte) {
				if idempotent {
					s.idem.finish(key, res.status, out, reqID)
					finished = true
				}
			})
		}
		if err != nil {
			writeJSON(w, errResult(http.StatusInternalServerError, "Service unavailable", ""))
			return
		}
		if idempotent && !finished {
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

// handleLocked runs a handler and renders its answer with s.mu held (released even if it
// panics), then calls done with the answer, still under s.mu.
func (s *Sandbox) handleLocked(handle func(*Sandbox, *apiCall) apiResult, c *apiCall, done func(apiResult, []byte)) (apiResult, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := handle(s, c)
	res.body = inflect(res.body, c.shape)
	out, err := json.Marshal(res.body)
	if err == nil {
		done(res, out)
	}
	return res, out, err
}

func writeJSON(w http.ResponseWriter, res apiResult) {
	b, _ := json.Marshal(res.body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(res.status)
	w.Write(b)
}
