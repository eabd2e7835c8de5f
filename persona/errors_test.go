package persona

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseAPIError(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    map[string]string
		body      string
		wantTitle string
		wantDet   string
		wantItems []ErrorItem
		wantError string // exact Error()
		wantReset time.Duration
	}{
		{
			name: "documented 404", status: 404,
			body:      `{"errors":[{"title":"Record not found","details":"data.attributes.inquiry_id is not found"}]}`,
			wantTitle: "Record not found", wantDet: "data.attributes.inquiry_id is not found",
			wantItems: []ErrorItem{{Title: "Record not found", Details: "data.attributes.inquiry_id is not found"}},
			wantError: "Persona: Record not found (404): data.attributes.inquiry_id is not found [request req_1]",
		},
		{
			name: "JSON:API detail spelling and pointers", status: 422,
			body: `{"errors":[{"title":"Record invalid","detail":"must be a date","source":{"pointer":"/data/attributes/fields/birthdate"}},
				{"title":"Record invalid","details":"is not a country","source":{"pointer":"/data/attributes/fields/address-country-code"}}]}`,
			wantTitle: "Record invalid", wantDet: "must be a date",
			wantItems: []ErrorItem{
				{Title: "Record invalid", Details: "must be a date", Pointer: "/data/attributes/fields/birthdate"},
				{Title: "Record invalid", Details: "is not a country", Pointer: "/data/attributes/fields/address-country-code"},
			},
			wantError: "Persona: Record invalid (422): birthdate: must be a date; address-country-code: is not a country [request req_1]",
		},
		{
			// Persona's error schema allows meta; some errors carry a code: both are kept.
			name: "code and meta kept", status: 422,
			body:      `{"errors":[{"title":"Record invalid","details":"Tag limit reached","code":"tag_limit_reached","meta":{"limit":1000}}]}`,
			wantTitle: "Record invalid", wantDet: "Tag limit reached",
			wantItems: []ErrorItem{{Title: "Record invalid", Details: "Tag limit reached", Code: "tag_limit_reached", Meta: json.RawMessage(`{"limit":1000}`)}},
			wantError: "Persona: Record invalid (422): Tag limit reached [request req_1]",
		},
		{
			name: "401 without details", status: 401,
			body:      `{"errors":[{"title":"Token is invalid"}]}`,
			wantTitle: "Token is invalid", wantItems: []ErrorItem{{Title: "Token is invalid"}},
			wantError: "Persona: Token is invalid (401) [request req_1]",
		},
		{
			name: "plain text body from a proxy", status: 502, body: "upstream connect error\n",
			wantTitle: "Bad Gateway", wantDet: "upstream connect error",
			wantError: "Persona: Bad Gateway (502): upstream connect error [request req_1]",
		},
		{
			name: "HTML body dropped", status: 503, body: "<html><body>down</body></html>",
			wantTitle: "Service Unavailable", wantError: "Persona: Service Unavailable (503) [request req_1]",
		},
		{
			name: "empty body, odd status", status: 599, body: "",
			wantTitle: "Unexpected response", wantError: "Persona: Unexpected response (599) [request req_1]",
		},
		{
			name: "JSON without errors", status: 400, body: `{"message":"nope"}`,
			wantTitle: "Bad Request", wantError: "Persona: Bad Request (400) [request req_1]",
		},
		{
			name: "429 with reset", status: 429, header: map[string]string{"RateLimit-Reset": "53"},
			body:      `{"errors":[{"title":"Rate limit exceeded","details":"You have hit your rate limit of 300 requests / min."}]}`,
			wantTitle: "Rate limit exceeded", wantDet: "You have hit your rate limit of 300 requests / min.",
			wantItems: []ErrorItem{{Title: "Rate limit exceeded", Details: "You have hit your rate limit of 300 requests / min."}},
			wantError: "Persona: Rate limit exceeded (429): You have hit your rate limit of 300 requests / min. [request req_1]",
			wantReset: 53 * time.Second,
		},
		{
			name: "429 with Retry-After only", status: 429, header: map[string]string{"Retry-After": "7"},
			body: `not json`, wantTitle: "Too Many Requests", wantDet: "not json",
			wantError: "Persona: Too Many Requests (429): not json [request req_1]",
			wantReset: 7 * time.Second,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Request-Id": {"req_1"}}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			e := parseAPIError(tc.status, h, []byte(tc.body))
			if e.Title != tc.wantTitle || e.Details != tc.wantDet || e.RequestID != "req_1" || e.StatusCode != tc.status {
				t.Errorf("got %+v", e)
			}
			if !reflect.DeepEqual(e.Errors, tc.wantItems) {
				t.Errorf("Errors = %+v, want %+v", e.Errors, tc.wantItems)
			}
			if e.Error() != tc.wantError {
				t.Errorf("Error() = %q\n         want %q", e.Error(), tc.wantError)
			}
			if RetryAfter(e) != tc.wantReset {
				t.Errorf("RetryAfter = %v, want %v", RetryAfter(e), tc.wantReset)
			}
		})
	}
}

func TestErrorClasses(t *testing.T) {
	api := func(code int) error {
		return fmt.Errorf("inquiry: approve: %w", &APIError{StatusCode: code, Title: http.StatusText(code)})
	}
	netErr := &unavailableError{op: "GET /x", err: errors.New("connection refused")}
	timeout := &unavailableError{op: "GET /x", timeout: true, err: context.DeadlineExceeded}
	preds := map[string]func(error) bool{
		"NotFound": IsNotFound, "Conflict": IsConflict, "RateLimited": IsRateLimited,
		"Unauthorized": IsUnauthorized, "Forbidden": IsForbidden, "Unprocessable": IsUnprocessable,
		"ServerError": IsServerError, "Unavailable": IsUnavailable, "Timeout": IsTimeout,
	}
	tests := []struct {
		err  error
		want []string
	}{
		{api(404), []string{"NotFound"}},
		{api(409), []string{"Conflict"}},
		{api(429), []string{"RateLimited"}},
		{api(401), []string{"Unauthorized"}},
		{api(403), []string{"Forbidden"}},
		{api(422), []string{"Unprocessable"}},
		{api(400), []string{"Unprocessable"}},
		{api(408), []string{"Unavailable", "Timeout"}},
		{api(500), []string{"ServerError", "Unavailable"}},
		{api(503), []string{"ServerError", "Unavailable"}},
		{netErr, []string{"Unavailable"}},
		{timeout, []string{"Unavailable", "Timeout"}},
		{context.Canceled, nil},
		{nil, nil},
	}
	for _, tc := range tests {
		for name, p := range preds {
			want := false
			for _, w := range tc.want {
				want = want || w == name
			}
			if got := p(tc.err); got != want {
				t.Errorf("Is%s(%v) = %v, want %v", name, tc.err, got, want)
			}
		}
	}
}

func TestExplain(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string // substring; exact when it ends a sentence the contract fixes
		full bool
	}{
		{"nil", nil, "", true},
		{"401", &APIError{StatusCode: 401, Title: "Token is invalid"},
			"Persona rejected the API key. An admin should check the Persona API key in Settings.", true},
		{"403", &APIError{StatusCode: 403, Title: "Forbidden", Details: "IP address is not permitted access to current environment"},
			"Persona says: IP address is not permitted access to current environment.", false},
		{"404", &APIError{StatusCode: 404, Title: "Record not found"}, "Persona has no such record", false},
		{"409", &APIError{StatusCode: 409, Title: "Conflict", Details: "Inquiry already redacted"},
			"Refresh the inquiry and try again if it still makes sense. Persona says: Inquiry already redacted.", false},
		{"422 with details", &APIError{StatusCode: 422, Title: "Record invalid", Details: "must be a date",
			Errors: []ErrorItem{{Title: "Record invalid", Details: "must be a date", Pointer: "/data/attributes/fields/birthdate"}}},
			"Persona rejected the values sent. Correct them and try again. Persona says: birthdate: must be a date.", true},
		{"400", &APIError{StatusCode: 400, Title: "Bad Request", Details: "data.type must be filled"},
			"Persona says: data.type must be filled.", false},
		{"429 with reset", &APIError{StatusCode: 429, Title: "Rate limit exceeded", Reset: 2500 * time.Millisecond},
			"Persona is busy (rate limited); try again in 3 s.", true},
		{"429 without reset", &APIError{StatusCode: 429, Title: "Rate limit exceeded"},
			"Persona is busy (rate limited); try again in a minute.", true},
		{"500", &APIError{StatusCode: 500, Title: "Service unavailable"},
			"Persona is unreachable right now; nothing was changed, try again in a minute.", true},
		{"network", &unavailableError{op: "GET /x", err: errors.New("dial tcp: connection refused")},
			"Persona is unreachable right now; nothing was changed, try again in a minute.", true},
		{"timeout", &unavailableError{op: "POST /inquiries", timeout: true, err: context.DeadlineExceeded},
			"Persona did not answer in time", false},
		{"caller deadline", fmt.Errorf("persona: GET /x: %w", context.DeadlineExceeded), "Persona did not answer in time", false},
		{"canceled", fmt.Errorf("persona: GET /x: %w", context.Canceled), "canceled", false},
		{"other", errors.New("persona: decode response: bad"), "Something went wrong while talking to Persona", false},
		{"odd status", &APIError{StatusCode: 418, Title: "I'm a teapot", RequestID: "req_9"}, `"req_9"`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Explain(tc.err)
			if tc.full && got != tc.want || !tc.full && !strings.Contains(got, tc.want) {
				t.Errorf("Explain = %q, want %q", got, tc.want)
			}
		})
	}
}
