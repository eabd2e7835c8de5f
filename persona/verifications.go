package persona

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Verification is any verification type (verification/government-id,
// verification/selfie, verification/database, ...). Type-specific attributes
// stay in Attributes (JSON numbers there are json.Number).
type Verification struct {
	ID, Type, Status                    string
	CreatedAt, SubmittedAt, CompletedAt *time.Time
	Checks                              []Check
	InquiryID                           string
	Attributes                          map[string]any
}

// Check is one entry of a verification's checks.
type Check struct {
	Name        string
	Status      string // passed, failed, not_applicable, ...
	Reasons     []string
	Requirement string // required, not_required, ...
}

// GetVerification retrieves a verification of any type (GET /verifications/{id}).
func (c *Client) GetVerification(ctx context.Context, id string) (*Verification, error) {
	eid, err := escapeID("get verification", id)
	if err != nil {
		return nil, err
	}
	d, err := c.do(ctx, call{method: http.MethodGet, path: "/verifications/" + eid})
	if err != nil {
		return nil, err
	}
	var r resource
	if isNull(d.Data) {
		return nil, errors.New("persona: get verification: response has no data")
	}
	if err := decodeJSON(d.Data, &r); err != nil {
		return nil, fmt.Errorf("persona: get verification: %w", err)
	}
	if r.ID == "" {
		return nil, errors.New("persona: get verification: resource has no id")
	}
	if err := checkID("verification id", r.ID, PrefixVerification); err != nil {
		return nil, fmt.Errorf("persona: get verification: %w", err)
	}
	var raw map[string]json.RawMessage
	var attrs map[string]any
	if !isNull(r.Attributes) {
		if err := decodeJSON(r.Attributes, &raw); err != nil {
			return nil, fmt.Errorf("persona: get verification %s: attributes: %w", r.ID, err)
		}
		_ = decodeJSON(r.Attributes, &attrs)
	}
	v := &Verification{
		ID:          r.ID,
		Type:        r.Type,
		Status:      attrString(raw, "status"),
		CreatedAt:   attrTime(raw, "created-at"),
		SubmittedAt: attrTime(raw, "submitted-at"),
		CompletedAt: attrTime(raw, "completed-at"),
		Checks:      decodeChecks(raw["checks"]),
		InquiryID:   firstID(r.Relationships["inquiry"]),
		Attributes:  attrs,
	}
	if v.InquiryID != "" {
		if err := checkID("inquiry id", v.InquiryID, PrefixInquiry); err != nil {
			return nil, fmt.Errorf("persona: get verification %s: %w", v.ID, err)
		}
	}
	return v, nil
}

// IDFacts is what a government ID says about its holder. The document number is kept only as
// its last characters: the console never shows the whole number.
type IDFacts struct {
	NameFirst, NameMiddle, NameLast string
	Birthdate                       string // as Persona gives it, YYYY-MM-DD
	NumberEnding                    string // the last 4 characters; "" when the number is shorter than 6
}

// Name is the holder's name as the ID spells it, the parts joined by spaces.
func (f IDFacts) Name() string {
	var parts []string
	for _, p := range []string{f.NameFirst, f.NameMiddle, f.NameLast} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

// governmentIDTypes are the verification types read from an identity document.
var governmentIDTypes = map[string]bool{
	"verification/government-id": true, "verification/government-id-nfc": true,
	"verification/driver-license": true, "verification/national-identity-card": true,
	"verification/passport": true, "verification/other-identity-card": true,
}

// IDFacts returns what the ID says (name-first, name-middle, name-last, birthdate and the end
// of identification-number), and false for a verification that does not read an ID or
// carries none of these.
func (v *Verification) IDFacts() (IDFacts, bool) {
	if v == nil || !governmentIDTypes[v.Type] {
		return IDFacts{}, false
	}
	str := func(k string) string {
		s, _ := v.Attributes[k].(string)
		return strings.TrimSpace(s)
	}
	f := IDFacts{NameFirst: str("name-first"), NameMiddle: str("name-middle"), NameLast: str("name-last"), Birthdate: str("birthdate")}
	// Too short a number would be shown nearly whole; then no part of it is.
	if n := []rune(str("identification-number")); len(n) >= 6 {
		f.NumberEnding = string(n[len(n)-4:])
	}
	return f, f != IDFacts{}
}

func decodeChecks(raw json.RawMessage) []Check {
	var items []map[string]json.RawMessage
	if isNull(raw) || decodeJSON(raw, &items) != nil {
		return nil
	}
	out := make([]Check, 0, len(items))
	for _, it := range items {
		out = append(out, Check{
			Name:        attrString(it, "name"),
			Status:      attrString(it, "status"),
			Reasons:     attrStrings(it, "reasons"),
			Requirement: attrString(it, "requirement"),
		})
	}
	return out
}

// Template is an inquiry template (itmpl_...).
type Template struct {
	ID, Name, Status string
	LatestVersionID  string // itmplv_... of the latest published version, when known
}

// templatesSandboxMessage is what staff see when templates cannot be listed.
const templatesSandboxMessage = "Inquiry templates can be imported only with a production API key; add sandbox templates by id instead."

// errTemplatesSandbox explains that Persona hides templates from Sandbox keys.
func errTemplatesSandbox(status int) *APIError {
	return &APIError{
		StatusCode: status,
		Title:      "Inquiry templates not available",
		Details:    templatesSandboxMessage,
		hint:       templatesSandboxMessage,
	}
}

// ListInquiryTemplates lists the organization's inquiry templates. Persona
// exposes them only to production keys; a Sandbox key gets a clear *APIError
// without calling Persona.
func (c *Client) ListInquiryTemplates(ctx context.Context) ([]Template, error) {
	if c.IsSandboxKey() {
		return nil, errTemplatesSandbox(http.StatusForbidden)
	}
	var out []Template
	q := url.Values{"page[size]": {"100"}}
	seen := map[string]bool{}
	for {
		d, err := c.do(ctx, call{method: http.MethodGet, path: "/inquiry-templates", query: q})
		if err != nil {
			return nil, c.mapTemplatesError(err, "")
		}
		var items []json.RawMessage
		if !isNull(d.Data) {
			if err := decodeJSON(d.Data, &items); err != nil {
				return nil, fmt.Errorf("persona: list inquiry templates: data is not a list: %w", err)
			}
		}
		for _, raw := range items {
			t, err := templateFromJSON(raw)
			if err != nil {
				return nil, fmt.Errorf("persona: list inquiry templates: %w", err)
			}
			out = append(out, *t)
		}
		next := d.nextCursor()
		if next == "" || seen[next] {
			return out, nil
		}
		seen[next] = true
		q.Set("page[after]", next)
	}
}

// GetInquiryTemplate retrieves one inquiry template (production keys only).
func (c *Client) GetInquiryTemplate(ctx context.Context, id string) (*Template, error) {
	if c.IsSandboxKey() {
		return nil, errTemplatesSandbox(http.StatusForbidden)
	}
	eid, err := escapeID("get inquiry template", id)
	if err != nil {
		return nil, err
	}
	d, err := c.do(ctx, call{method: http.MethodGet, path: "/inquiry-templates/" + eid})
	if err != nil {
		return nil, c.mapTemplatesError(err, id)
	}
	t, err := templateFromJSON(d.Data)
	if err != nil {
		return nil, fmt.Errorf("persona: get inquiry template: %w", err)
	}
	return t, nil
}

// mapTemplatesError says in words why templates could not be read: a 403 that mentions
// Sandbox is Persona hiding templates from a Sandbox environment; a 404 is reported as what it
// is (for id, or for the list when id is ""), naming the kind of key, not guessed to be Sandbox.
func (c *Client) mapTemplatesError(err error, id string) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return err
	}
	var m *APIError
	switch mentionsSandbox := strings.Contains(strings.ToLower(ae.Title+" "+ae.Details), "sandbox"); {
	case ae.StatusCode == http.StatusForbidden && mentionsSandbox:
		m = errTemplatesSandbox(ae.StatusCode)
	case ae.StatusCode == http.StatusNotFound && id != "":
		m = &APIError{StatusCode: ae.StatusCode, Title: ae.Title, Details: ae.Details,
			hint: fmt.Sprintf("Persona has no inquiry template %s for this API key's organisation and environment (%s). Check the id in Persona's dashboard.", id, c.keyKind())}
	case ae.StatusCode == http.StatusNotFound:
		m = &APIError{StatusCode: ae.StatusCode, Title: ae.Title, Details: ae.Details,
			hint: fmt.Sprintf("Persona answered 404 (%s) when asked for the inquiry templates of this API key's organisation and environment (%s), so nothing was imported. "+
				"Check the API URL (%s) and that the key may read inquiry templates, or add templates by id.", ae.Title, c.keyKind(), c.cfg.BaseURL)}
	default:
		return err
	}
	m.RequestID, m.Errors = ae.RequestID, ae.Errors
	return m
}

// keyKind names the environment the key's prefix points to, for messages.
func (c *Client) keyKind() string {
	switch {
	case strings.HasPrefix(c.cfg.APIKey, "persona_production_"):
		return "a production key"
	case c.IsSandboxKey():
		return "a sandbox key"
	}
	return "a key whose prefix names neither production nor sandbox"
}

func templateFromJSON(raw json.RawMessage) (*Template, error) {
	var r resource
	if isNull(raw) {
		return nil, errors.New("no template data")
	}
	if err := decodeJSON(raw, &r); err != nil {
		return nil, err
	}
	if r.ID == "" {
		return nil, errors.New("template has no id")
	}
	if err := checkID("template id", r.ID, PrefixInquiryTemplate, PrefixLegacyTemplate); err != nil {
		return nil, err
	}
	var attrs map[string]json.RawMessage
	if !isNull(r.Attributes) {
		_ = decodeJSON(r.Attributes, &attrs)
	}
	t := &Template{
		ID:              r.ID,
		Name:            attrString(attrs, "name"),
		Status:          attrString(attrs, "status"),
		LatestVersionID: firstID(r.Relationships["latest-published-version"]),
	}
	if t.LatestVersionID != "" {
		if err := checkID("template version id", t.LatestVersionID, PrefixTemplateVersion); err != nil {
			return nil, fmt.Errorf("template %s: %w", t.ID, err)
		}
	}
	return t, nil
}
