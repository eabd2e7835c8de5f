package persona

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// APIError is an error answer from Persona: any non-2xx status, decoded from
// {"errors":[{"title","details","source":{"pointer"}}]} when the body has that shape.
type APIError struct {
	StatusCode int
	Title      string // first error's title, or the HTTP status text
	Details    string // first error's details (may be empty)
	RequestID  string // Request-Id header (req_...), for Persona support
	Errors     []ErrorItem
	// Reset is how long Persona asked us to wait (RateLimit-Reset, else
	// Retry-After) on a 429; zero when unknown.
	Reset time.Duration

	hint string // staff advice that replaces Explain's generic text
}

// ErrorItem is one entry of Persona's errors array.
type ErrorItem struct {
	Title   string
	Details string
	Pointer string // source.pointer, e.g. /data/attributes/birthdate
	Code    string // Persona's machine-readable code, when it sends one
	// Meta is the error's meta object as sent ("additional metadata about the error"), nil
	// when absent.
	Meta json.RawMessage
}

// Error gives a sentence staff can read, e.g.
// "Persona: Record not found (404): data.attributes.inquiry_id is not found".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("Persona: ")
	b.WriteString(e.Title)
	fmt.Fprintf(&b, " (%d)", e.StatusCode)
	if d := e.detailText(); d != "" {
		b.WriteString(": ")
		b.WriteString(d)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	return b.String()
}

// detailText joins the details of every error item (titles for the later ones
// when they have no details) so validation errors on several fields all show.
func (e *APIError) detailText() string {
	var parts []string
	seen := map[string]bool{}
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" && !seen[s] {
			seen[s] = true
			parts = append(parts, s)
		}
	}
	add(withPointer(e.Details, firstPointer(e.Errors)))
	for i, it := range e.Errors {
		if i == 0 {
			continue
		}
		if it.Details != "" {
			add(withPointer(it.Details, it.Pointer))
		} else if it.Title != e.Title {
			add(withPointer(it.Title, it.Pointer))
		}
	}
	return strings.Join(parts, "; ")
}

func firstPointer(items []ErrorItem) string {
	if len(items) > 0 {
		return items[0].Pointer
	}
	return ""
}

// withPointer names the field when Persona's text does not already say it.
func withPointer(text, pointer string) string {
	if text == "" || pointer == "" {
		return text
	}
	field := pointer[strings.LastIndex(pointer, "/")+1:]
	if field == "" || strings.Contains(text, field) {
		return text
	}
	return field + ": " + text
}

// parseAPIError builds an APIError from a non-2xx response. It never fails:
// bodies that are not Persona's JSON (proxies, load balancers) still give a
// readable error.
func parseAPIError(status int, h http.Header, body []byte) *APIError {
	e := &APIError{StatusCode: status, RequestID: h.Get("Request-Id")}
	var doc struct {
		Errors []struct {
			Title   string          `json:"title"`
			Details string          `json:"details"`
			Detail  string          `json:"detail"` // JSON:API's standard spelling, tolerated
			Code    json.RawMessage `json:"code"`
			Meta    json.RawMessage `json:"meta"`
			Source  struct {
				Pointer string `json:"pointer"`
			} `json:"source"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &doc) == nil {
		for _, it := range doc.Errors {
			d := it.Details
			if d == "" {
				d = it.Detail
			}
			item := ErrorItem{Title: it.Title, Details: d, Pointer: it.Source.Pointer}
			var code any
			if !isNull(it.Code) && decodeJSON(it.Code, &code) == nil {
				item.Code = valueString(code) // a string, or a number some errors use
			}
			if !isNull(it.Meta) {
				item.Meta = append(json.RawMessage(nil), it.Meta...)
			}
			e.Errors = append(e.Errors, item)
		}
	}
	if len(e.Errors) > 0 {
		e.Title, e.Details = e.Errors[0].Title, e.Errors[0].Details
	} else if s := bodySnippet(body); s != "" {
		e.Details = s
	}
	if e.Title == "" {
		e.Title = http.StatusText(status)
		if e.Title == "" {
			e.Title = "Unexpected response"
		}
	}
	if status == http.StatusTooManyRequests {
		e.Reset = retryDelayFromHeaders(h)
	}
	return e
}

// bodySnippet returns a short plain-text body for display; HTML error pages
// and binary junk are dropped because they read badly in a staff message.
func bodySnippet(body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" || strings.HasPrefix(s, "<") || strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") || !utf8.ValidString(s) {
		return ""
	}
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// unavailableError reports that Persona could not be reached or did not
// answer in time (as opposed to answering with an error).
type unavailableError struct {
	op      string // "GET /inquiries/inq_..."
	timeout bool
	err     error
}

func (e *unavailableError) Error() string {
	if e.timeout {
		return fmt.Sprintf("persona: %s: Persona did not answer in time: %v", e.op, e.err)
	}
	return fmt.Sprintf("persona: %s: Persona unreachable: %v", e.op, e.err)
}

func (e *unavailableError) Unwrap() error { return e.err }

func statusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode
	}
	return 0
}

// IsNotFound reports a 404 from Persona.
func IsNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsConflict reports a 409: the record is in a state that forbids the action.
func IsConflict(err error) bool { return statusOf(err) == http.StatusConflict }

// IsRateLimited reports a 429 (rate limit or quota).
func IsRateLimited(err error) bool { return statusOf(err) == http.StatusTooManyRequests }

// IsUnauthorized reports a 401: missing or invalid API key.
func IsUnauthorized(err error) bool { return statusOf(err) == http.StatusUnauthorized }

// IsForbidden reports a 403: the key lacks a permission, or the environment refuses.
func IsForbidden(err error) bool { return statusOf(err) == http.StatusForbidden }

// IsUnprocessable reports a 422 or 400: Persona rejected the values sent.
func IsUnprocessable(err error) bool {
	s := statusOf(err)
	return s == http.StatusUnprocessableEntity || s == http.StatusBadRequest
}

// IsServerError reports a 5xx answer.
func IsServerError(err error) bool { return statusOf(err) >= 500 }

// IsRefused reports that Persona answered and refused the request (a 4xx other than 408 and
// 429): repeating it unchanged cannot succeed, and an idempotency key would replay the refusal.
func IsRefused(err error) bool {
	s := statusOf(err)
	return s >= 400 && s < 500 && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests
}

// IsUnavailable reports that Persona is unreachable: a network error, a
// timeout or a 5xx. A context canceled by the caller is not Persona's fault
// and does not count.
func IsUnavailable(err error) bool {
	var ue *unavailableError
	return errors.As(err, &ue) || IsServerError(err) || statusOf(err) == http.StatusRequestTimeout
}

// IsTimeout reports that Persona did not answer within the request timeout.
func IsTimeout(err error) bool {
	var ue *unavailableError
	return (errors.As(err, &ue) && ue.timeout) || statusOf(err) == http.StatusRequestTimeout
}

// TagLimitWords explain Persona's limit of active tags (2025-09-29) to staff.
const TagLimitWords = "Persona allows at most 1,000 active tags in an organization, and that many are in use, so it refused a new tag. Use a tag that exists already, or leave the tags empty; an admin can remove unused tags in Persona's dashboard."

// IsTagLimit reports Persona's 422 for a request that would create a tag past the
// organization's limit of active tags. Persona documents the status, not the words, so any
// 422 about tags that speaks of a limit counts.
func IsTagLimit(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	for _, it := range ae.Errors {
		text := strings.ToLower(it.Title + " " + it.Details + " " + it.Code + " " + it.Pointer)
		if strings.Contains(text, "tag") && (strings.Contains(text, "limit") || strings.Contains(text, "1000") || strings.Contains(text, "1,000")) {
			return true
		}
	}
	return false
}

// RetryAfter is how long Persona asked us to wait after a 429, or zero.
func RetryAfter(err error) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusTooManyRequests {
		return ae.Reset
	}
	return 0
}

// Explain turns an error from this package into words for staff, with what to
// do next. It returns "" for a nil error.
func Explain(err error) string {
	if err == nil {
		return ""
	}
	var ae *APIError
	hasAPI := errors.As(err, &ae)
	switch {
	case hasAPI && ae.hint != "":
		return ae.hint
	case errors.Is(err, context.Canceled):
		return "The request to Persona was canceled before it finished; refresh the inquiry to see whether anything changed."
	case IsTimeout(err) || (!hasAPI && errors.Is(err, context.DeadlineExceeded)):
		return "Persona did not answer in time; the change may or may not have been made. Refresh the inquiry to check before trying again."
	case IsUnavailable(err):
		return "Persona is unreachable right now; nothing was changed, try again in a minute."
	case !hasAPI:
		return "Something went wrong while talking to Persona: " + err.Error()
	}
	details := ae.detailText()
	with := func(s string) string {
		if details == "" {
			return s
		}
		return s + " Persona says: " + details + "."
	}
	switch {
	case ae.StatusCode == http.StatusUnauthorized:
		return "Persona rejected the API key. An admin should check the Persona API key in Settings."
	case ae.StatusCode == http.StatusForbidden:
		return with("Persona refused this action for our API key (missing permission, IP allowlist or inactive environment). An admin should check the key's permissions in Persona's dashboard.")
	case ae.StatusCode == http.StatusNotFound:
		return with("Persona has no such record. It may have been redacted, or it belongs to the other environment (Sandbox vs Production); check the id and the API key.")
	case ae.StatusCode == http.StatusConflict:
		return with("Persona refused because the record's current state does not allow this action. Refresh the inquiry and try again if it still makes sense.")
	case IsTagLimit(err):
		return TagLimitWords
	case IsUnprocessable(err):
		return with("Persona rejected the values sent. Correct them and try again.")
	case ae.StatusCode == http.StatusTooManyRequests:
		if d := ae.Reset; d > 0 {
			return fmt.Sprintf("Persona is busy (rate limited); try again in %d s.", int(math.Ceil(d.Seconds())))
		}
		return "Persona is busy (rate limited); try again in a minute."
	}
	return with(fmt.Sprintf("Persona answered with an unexpected error (%d %s). Try again; if it keeps happening, give the request id %q to an admin.", ae.StatusCode, ae.Title, ae.RequestID))
}
