package sandbox

import (
	"strings"
	"testing"
)

// TestRouteAnswers pins how the API answers each kind of path: the route it
// reaches (as counted in Stats.Calls), 405 with Allow on a known path, 404 in
// Persona's error shape on an unknown one, slashes at either end ignored, and
// odd segments (empty, dot, escaped slash) taken as the old router took them.
func TestRouteAnswers(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(TemplateKYC, "ref-1", nil)
	noAuth := []string{"Authorization", ""}
	for _, c := range []struct {
		method, path string
		status       int
		allow, title string
		details      string
		call         string // the Stats.Calls key the request adds to
		headers      []string
	}{
		{"GET", "/inquiries", 200, "", "", "", "GET /inquiries", nil},
		{"GET", "/inquiries/", 200, "", "", "", "GET /inquiries", nil},
		{"GET", "//inquiries//", 200, "", "", "", "GET /inquiries", nil},
		{"GET", "/inquiries/" + id + "/", 200, "", "", "", "GET /inquiries/{id}", nil},
		{"HEAD", "/inquiries", 405, "GET, POST", "", "", "HEAD (unknown)", nil},
		{"PUT", "/inquiries", 405, "GET, POST", "Method Not Allowed", "PUT is not supported on /api/v1/inquiries", "PUT (unknown)", nil},
		{"OPTIONS", "/inquiries/" + id, 405, "DELETE, GET, PATCH", "Method Not Allowed", "OPTIONS is not supported on /api/v1/inquiries/" + id, "OPTIONS (unknown)", nil},
		{"GET", "/inquiries/x/approve", 405, "POST", "Method Not Allowed", "GET is not supported on /api/v1/inquiries/x/approve", "GET (unknown)", nil},
		{"DELETE", "/inquiries/x/approve", 405, "POST", "Method Not Allowed", "DELETE is not supported on /api/v1/inquiries/x/approve", "DELETE (unknown)", nil},
		{"POST", "/inquiries/x/bogus", 404, "", "Not Found", "No route matches POST /api/v1/inquiries/x/bogus", "POST (unknown)", nil},
		{"POST", "/inquiries/x/approve", 404, "", "Record not found", "", "POST /inquiries/{id}/approve", nil},
		{"POST", "/inquiries//approve", 404, "", "Record not found", "", "POST /inquiries/{id}/approve", nil},
		{"POST", "/inquiries/./approve", 404, "", "Record not found", "", "POST /inquiries/{id}/approve", nil},
		{"POST", "/inquiries/../approve", 404, "", "Record not found", "", "POST /inquiries/{id}/approve", nil},
		{"GET", "/inquiries/a%2Fb", 404, "", "Not Found", "No route matches GET /api/v1/inquiries/a/b", "GET (unknown)", nil},
		{"GET", "/inquiries/%20x", 404, "", "Record not found", "", "GET /inquiries/{id}", nil},
		{"GET", "", 404, "", "Not Found", "No route matches GET /api/v1", "GET (unknown)", nil},
		{"GET", "/", 404, "", "Not Found", "No route matches GET /api/v1/", "GET (unknown)", nil},
		{"POST", "/nothing", 404, "", "Not Found", "No route matches POST /api/v1/nothing", "POST (unknown)", nil},
		{"GET", "/verifications/ver_x", 404, "", "Record not found", "", "GET /verifications/{id}", nil},
		{"GET", "/verification/selfies/ver_x", 404, "", "Record not found", "", "GET /verification/selfies/{id}", nil},
		{"GET", "/verification/bogus/ver_x", 404, "", "Not Found", "No route matches GET /api/v1/verification/bogus/ver_x", "GET (unknown)", nil},
		{"GET", "/verification/selfies", 404, "", "Not Found", "No route matches GET /api/v1/verification/selfies", "GET (unknown)", nil},
		{"POST", "/verification/selfies/x", 405, "GET", "Method Not Allowed", "POST is not supported on /api/v1/verification/selfies/x", "POST (unknown)", nil},
		{"HEAD", "/accounts/x", 405, "GET", "", "", "HEAD (unknown)", nil},
		{"PATCH", "/inquiry-templates", 405, "GET", "Method Not Allowed", "PATCH is not supported on /api/v1/inquiry-templates", "PATCH (unknown)", nil},
		{"GET", "/inquiry-templates", 403, "", "Forbidden", msgTemplatesHidden, "GET /inquiry-templates", nil},
		// Authorization comes before routing: an unknown path or method answers 401.
		{"GET", "/nothing", 401, "", msgUnauthenticated, "", "GET (unknown)", noAuth},
		{"PUT", "/inquiries", 401, "", msgUnauthenticated, "", "PUT (unknown)", noAuth},
	} {
		name := c.method + " " + c.path
		before := e.sb.Stats().Calls
		r := e.call(c.method, c.path, nil, c.headers...)
		if r.status != c.status || r.header.Get("Allow") != c.allow ||
			r.str("errors.0.title") != c.title || r.str("errors.0.details") != c.details {
			t.Errorf("%s: %d Allow %q %s; want %d Allow %q title %q details %q",
				name, r.status, r.header.Get("Allow"), r.raw, c.status, c.allow, c.title, c.details)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q", name, ct)
		}
		after := e.sb.Stats().Calls
		if d := after[c.call] - before[c.call]; d != 1 {
			t.Errorf("%s: Calls[%q] grew by %d, want 1", name, c.call, d)
		}
		for k, n := range after {
			if d := n - before[k]; k != c.call && d != 0 {
				t.Errorf("%s: Calls[%q] grew by %d, want 0", name, k, d)
			}
		}
	}
}

// TestIdempotencyKeySeesPathAsSent: the key's fingerprint is the path as the
// client sent it, so the same key on "/inquiries/" is a different request.
func TestIdempotencyKeySeesPathAsSent(t *testing.T) {
	e := newEnv(t, Options{})
	body := map[string]any{"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": TemplateKYC}}}
	mustStatus(t, e.call("POST", "/inquiries", body, "Idempotency-Key", "k1"), 201)
	r := e.call("POST", "/inquiries/", body, "Idempotency-Key", "k1")
	mustStatus(t, r, 422)
	if !strings.Contains(r.str("errors.0.details"), "already used with different parameters") {
		t.Errorf("details %s", r.raw)
	}
	mustStatus(t, e.call("POST", "/inquiries", body, "Idempotency-Key", "k1"), 201)
	if n := e.sb.Stats().IdempotentReplays; n != 1 {
		t.Errorf("replays %d, want 1", n)
	}
}
