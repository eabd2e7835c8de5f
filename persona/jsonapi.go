package persona

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Inquiry statuses of Persona-Version 2023-01-05. Persona warns the set is not
// closed: Inquiry.Status keeps whatever Persona sends.
const (
	StatusCreated     = "created"
	StatusPending     = "pending"
	StatusCompleted   = "completed"
	StatusFailed      = "failed"
	StatusExpired     = "expired"
	StatusNeedsReview = "needs_review"
	StatusApproved    = "approved"
	StatusDeclined    = "declined"
)

// Inquiry is the typed view of a Persona inquiry resource.
type Inquiry struct {
	ID                string
	Status            string // see the Status* constants; unknown values kept as-is
	ReferenceID       string
	TemplateID        string // inquiry-template, else legacy template, else inquiry-template-version
	TemplateVersionID string // itmplv_..., when Persona says
	TemplateName      string // from included inquiry-template, when present
	AccountID         string
	Note              string
	Tags              []string
	Creator           string
	ReviewerComment   string
	PreviousStepName  string
	NextStepName      string
	Fields            map[string]FieldValue

	CreatedAt, UpdatedAt, StartedAt, CompletedAt, FailedAt *time.Time
	MarkedForReviewAt, DecisionedAt, ExpiredAt, RedactedAt *time.Time
	ExpiresAt                                              *time.Time

	VerificationIDs []string
	SessionIDs      []string

	// Attributes is the raw attributes object, for display of what the typed
	// fields leave out.
	Attributes json.RawMessage

	flat map[string]string // scalar top-level attributes, for Field's fallback
	sent map[string]bool   // the attributes the document carried (kebab keys), null ones too
	// unreadable names what a webhook must not carry: attributes present but not readable
	// (a date that is no date, fields that are no object). API answers tolerate them.
	unreadable []string
}

// Sent reports whether the document carried the attribute (kebab key), even as null. An
// attribute it did not carry was not sent, which is not the same as empty: a webhook on a
// newer version leaves out what an older one sent.
func (q *Inquiry) Sent(attr string) bool { return q != nil && q.sent[attr] }

// FieldValue is one entry of an inquiry's fields: {"type": ..., "value": ...}.
// Value holds JSON-decoded data; numbers are json.Number so nothing is lost.
type FieldValue struct {
	Type  string
	Value any
}

// Field returns the field's value as a string ("" when absent or null), by its key in any
// inflection (name-first, name_first, nameFirst). It
// falls back to the flattened top-level attribute of the same name
// (name-first, birthdate, ...) which versions before 2025-10-27 carry.
func (q *Inquiry) Field(key string) string {
	if q == nil {
		return ""
	}
	key = kebabKey(key) // fields are kept under kebab keys, whatever form Persona sent
	if f, ok := q.Fields[key]; ok && f.Value != nil {
		return valueString(f.Value)
	}
	if q.flat != nil {
		return q.flat[key]
	}
	// Built by hand rather than decoded: read Attributes directly (without
	// caching, so concurrent readers never race).
	var attrs map[string]json.RawMessage
	if len(q.Attributes) == 0 || decodeJSON(q.Attributes, &attrs) != nil {
		return ""
	}
	return flatten(kebabKeys(attrs))[key]
}

// Name is "first middle last" with empty parts left out.
func (q *Inquiry) Name() string {
	var parts []string
	for _, k := range []string{"name-first", "name-middle", "name-last"} {
		if v := strings.TrimSpace(q.Field(k)); v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, " ")
}

// resource is one JSON:API resource object.
type resource struct {
	Type          string                     `json:"type"`
	ID            string                     `json:"id"`
	Attributes    json.RawMessage            `json:"attributes"`
	Relationships map[string]json.RawMessage `json:"relationships"`
}

// document is a JSON:API top-level object as Persona sends it.
type document struct {
	Data     json.RawMessage            `json:"data"`
	Included []json.RawMessage          `json:"included"`
	Meta     map[string]json.RawMessage `json:"meta"`
	Links    struct {
		Next *string `json:"next"`
		Prev *string `json:"prev"`
	} `json:"links"`
}

// DecodeInquiry decodes a JSON:API document whose data is one inquiry, as
// returned by the inquiry endpoints and carried in webhook event payloads
// ({"data": {...}, "included": [...]}). Unknown attributes, relationships and
// included types are ignored; only a missing inquiry id is an error.
func DecodeInquiry(doc []byte) (*Inquiry, error) {
	var d document
	if err := decodeJSON(doc, &d); err != nil {
		return nil, fmt.Errorf("persona: decode inquiry: %w", err)
	}
	return inquiryFromDoc(&d)
}

func inquiryFromDoc(d *document) (*Inquiry, error) {
	var r resource
	if isNull(d.Data) {
		return nil, errors.New("persona: decode inquiry: document has no data")
	}
	if err := decodeJSON(d.Data, &r); err != nil {
		return nil, fmt.Errorf("persona: decode inquiry: %w", err)
	}
	return inquiryFromResource(&r, d.Included)
}

func inquiryFromResource(r *resource, included []json.RawMessage) (*Inquiry, error) {
	if r.ID == "" {
		return nil, errors.New("persona: decode inquiry: resource has no id")
	}
	if r.Type != "" && kebabKey(r.Type) != "inquiry" {
		return nil, fmt.Errorf("persona: decode inquiry: resource %s is a %q, not an inquiry", quoteID(r.ID), r.Type)
	}
	if err := checkID("inquiry id", r.ID, PrefixInquiry); err != nil {
		return nil, fmt.Errorf("persona: decode inquiry: %w", err)
	}
	var attrs map[string]json.RawMessage
	if !isNull(r.Attributes) {
		if err := decodeJSON(r.Attributes, &attrs); err != nil {
			return nil, fmt.Errorf("persona: decode inquiry %s: attributes: %w", r.ID, err)
		}
	}
	attrs = kebabKeys(attrs)
	rels := kebabKeys(r.Relationships)
	q := &Inquiry{
		ID:                r.ID,
		Status:            attrString(attrs, "status"),
		ReferenceID:       attrString(attrs, "reference-id"),
		Note:              attrString(attrs, "note"),
		Tags:              attrStrings(attrs, "tags"),
		Creator:           attrString(attrs, "creator"),
		ReviewerComment:   attrString(attrs, "reviewer-comment"),
		PreviousStepName:  attrString(attrs, "previous-step-name"),
		NextStepName:      attrString(attrs, "next-step-name"),
		Fields:            decodeFields(attrs["fields"]),
		CreatedAt:         attrTime(attrs, "created-at"),
		UpdatedAt:         attrTime(attrs, "updated-at"),
		StartedAt:         attrTime(attrs, "started-at"),
		CompletedAt:       attrTime(attrs, "completed-at"),
		FailedAt:          attrTime(attrs, "failed-at"),
		MarkedForReviewAt: attrTime(attrs, "marked-for-review-at"),
		DecisionedAt:      attrTime(attrs, "decisioned-at"),
		ExpiredAt:         attrTime(attrs, "expired-at"),
		RedactedAt:        attrTime(attrs, "redacted-at"),
		ExpiresAt:         attrTime(attrs, "expires-at"),
		VerificationIDs:   relIDs(rels["verifications"]),
		SessionIDs:        relIDs(rels["sessions"]),
		AccountID:         firstID(rels["account"]),
		TemplateVersionID: firstID(rels["inquiry-template-version"]),
		flat:              flatten(attrs),
		sent:              make(map[string]bool, len(attrs)),
	}
	for k := range attrs {
		q.sent[k] = true
	}
	q.unreadable = unreadableAttrs(attrs)
	if !isNull(r.Attributes) {
		q.Attributes = append(json.RawMessage(nil), r.Attributes...)
	}
	q.TemplateID = firstID(rels["inquiry-template"])
	if q.TemplateID == "" {
		q.TemplateID = firstID(rels["template"])
	}
	if q.TemplateID == "" {
		q.TemplateID = q.TemplateVersionID
	}
	q.TemplateName = includedName(included, q.TemplateID)
	if err := q.checkRelatedIDs(); err != nil {
		return nil, fmt.Errorf("persona: decode inquiry %s: %w", q.ID, err)
	}
	return q, nil
}

// checkRelatedIDs refuses an inquiry whose related ids (stored and shown) are malformed.
func (q *Inquiry) checkRelatedIDs() error {
	if q.TemplateID != "" {
		if err := checkID("template id", q.TemplateID, templatePrefixes...); err != nil {
			return err
		}
	}
	if q.TemplateVersionID != "" {
		if err := checkID("template version id", q.TemplateVersionID, PrefixTemplateVersion); err != nil {
			return err
		}
	}
	if q.AccountID != "" {
		if err := checkID("account id", q.AccountID, PrefixAccount); err != nil {
			return err
		}
	}
	if err := checkIDs("verification id", q.VerificationIDs, PrefixVerification); err != nil {
		return err
	}
	return checkIDs("session id", q.SessionIDs, PrefixSession)
}

// includedName finds the name attribute of the included resource with id.
func includedName(included []json.RawMessage, id string) string {
	if id == "" {
		return ""
	}
	for _, raw := range included {
		var r resource
		if decodeJSON(raw, &r) != nil || r.ID != id {
			continue
		}
		var attrs map[string]json.RawMessage
		if decodeJSON(r.Attributes, &attrs) == nil {
			return attrString(kebabKeys(attrs), "name")
		}
	}
	return ""
}

func decodeFields(raw json.RawMessage) map[string]FieldValue {
	var m map[string]json.RawMessage
	if isNull(raw) || decodeJSON(raw, &m) != nil {
		return nil
	}
	m = kebabKeys(m) // from 2025-10-27 fields keep their configured keys (name_first)
	out := make(map[string]FieldValue, len(m))
	for k, v := range m {
		var f struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
		}
		// Tolerate a plain value where {type, value} was expected.
		if decodeJSON(v, &f) != nil || (f.Type == "" && f.Value == nil) {
			var plain any
			if decodeJSON(v, &plain) == nil {
				out[k] = FieldValue{Value: plain}
			}
			continue
		}
		var val any
		if !isNull(f.Value) {
			_ = decodeJSON(f.Value, &val)
		}
		out[k] = FieldValue{Type: f.Type, Value: val}
	}
	return out
}

// flatten keeps the scalar top-level attributes as strings.
func flatten(attrs map[string]json.RawMessage) map[string]string {
	out := make(map[string]string)
	for k, raw := range attrs {
		var v any
		if decodeJSON(raw, &v) != nil || v == nil {
			continue
		}
		switch v.(type) {
		case string, json.Number, bool:
			out[k] = valueString(v)
		}
	}
	return out
}

// valueString renders a decoded JSON value for display.
func valueString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

// relIDs returns the ids of a relationship's data, whether Persona sent an
// object, an array, null or the empty object some examples show.
func relIDs(raw json.RawMessage) []string {
	var rel struct {
		Data json.RawMessage `json:"data"`
	}
	if isNull(raw) || decodeJSON(raw, &rel) != nil || isNull(rel.Data) {
		return nil
	}
	type ref struct {
		ID string `json:"id"`
	}
	var many []ref
	if decodeJSON(rel.Data, &many) != nil {
		var one ref
		if decodeJSON(rel.Data, &one) != nil {
			return nil
		}
		many = []ref{one}
	}
	var ids []string
	for _, r := range many {
		if r.ID != "" {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

func firstID(raw json.RawMessage) string {
	if ids := relIDs(raw); len(ids) > 0 {
		return ids[0]
	}
	return ""
}
