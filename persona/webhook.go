package persona

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Webhook verification outcomes; test with errors.Is (they are wrapped with detail).
var (
	ErrSignatureMalformed = errors.New("persona: webhook signature header is malformed")
	ErrSignatureStale     = errors.New("persona: webhook signature timestamp is outside the tolerance")
	ErrSignatureMismatch  = errors.New("persona: webhook signature does not match")
	ErrNoSecrets          = errors.New("persona: no webhook secret configured")
)

// DefaultWebhookTolerance is how far a signature's timestamp may be from now.
// Persona documents none; 300 s is the common choice.
const DefaultWebhookTolerance = 300 * time.Second

// Bounds on what we parse from one header, so a hostile header cannot make
// us compute many HMACs. Rotation needs two sets.
const (
	maxSignatureSets = 8
	maxSignatures    = 16
)

type signatureSet struct {
	t    int64
	sigs [][]byte
}

// VerifySignature checks a Persona-Signature header against the raw request
// body. The header is "t=<unix>,v1=<hex>", with several space-separated sets
// while a secret rotates; it passes if any v1 of any set is the HMAC-SHA256
// of "<t>.<body>" under any of secrets, and that set's t is within tolerance
// of now (0 means DefaultWebhookTolerance, negative disables the check, e.g.
// to re-verify a stored event). A stale result is reported only for an
// otherwise valid signature, so it always means a genuine but old delivery.
func VerifySignature(header string, rawBody []byte, secrets []string, tolerance time.Duration, now time.Time) error {
	var keys []string
	for _, s := range secrets {
		if s != "" {
			keys = append(keys, s)
		}
	}
	if len(keys) == 0 {
		return ErrNoSecrets
	}
	sets, err := parseSignatureHeader(header)
	if err != nil {
		return err
	}
	if tolerance == 0 {
		tolerance = DefaultWebhookTolerance
	}
	stale := int64(0)
	for _, set := range sets {
		if !setMatches(set, rawBody, keys) {
			continue
		}
		if tolerance < 0 || withinTolerance(set.t, now, tolerance) {
			return nil
		}
		stale = set.t
	}
	if stale != 0 {
		return fmt.Errorf("%w: signed at %s, now %s", ErrSignatureStale,
			time.Unix(stale, 0).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return ErrSignatureMismatch
}

func setMatches(set signatureSet, body []byte, keys []string) bool {
	for _, key := range keys {
		want := computeSignature(key, set.t, body)
		for _, sig := range set.sigs {
			if hmac.Equal(sig, want) {
				return true
			}
		}
	}
	return false
}

func withinTolerance(t int64, now time.Time, tolerance time.Duration) bool {
	tol := int64(tolerance / time.Second)
	n := now.Unix()
	// Written without subtraction of t so extreme values cannot overflow.
	return t >= n-tol && t <= n+tol
}

func computeSignature(secret string, t int64, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(t, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// parseSignatureHeader reads the "t=..,v1=.." sets. Sets are separated by
// spaces and parts by commas, but a stray space after a comma is tolerated: a
// new set starts where a second t= appears. Unknown keys (a future v2) are
// ignored; a set without a usable t or v1 is skipped; no usable set at all is
// malformed.
func parseSignatureHeader(header string) ([]signatureSet, error) {
	var sets []signatureSet
	cur := signatureSet{t: -1}
	haveT := false
	total := 0
	flush := func() {
		if cur.t > 0 && len(cur.sigs) > 0 && len(sets) < maxSignatureSets {
			sets = append(sets, cur)
		}
		cur, haveT = signatureSet{t: -1}, false
	}
	tokens := strings.FieldsFunc(header, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	for _, tok := range tokens {
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			if haveT {
				flush()
			}
			haveT = true
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
				cur.t = n
			}
		case "v1":
			if total >= maxSignatures {
				continue
			}
			if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
				cur.sigs = append(cur.sigs, b)
				total++
			}
		}
	}
	flush()
	if len(sets) == 0 {
		if strings.TrimSpace(header) == "" {
			return nil, fmt.Errorf("%w: header is empty", ErrSignatureMalformed)
		}
		return nil, fmt.Errorf("%w: expected t=<unix seconds>,v1=<hex sha256>", ErrSignatureMalformed)
	}
	return sets, nil
}

// SignWebhook returns a Persona-Signature header value for body signed with
// secret at time t, as Persona would send it.
func SignWebhook(secret string, t time.Time, body []byte) string {
	ts := t.Unix()
	return fmt.Sprintf("t=%d,v1=%s", ts, hex.EncodeToString(computeSignature(secret, ts, body)))
}

// Event is a webhook event (type "event", id evt_...).
type Event struct {
	ID          string
	Name        string    // e.g. inquiry.completed; unknown names are kept
	CreatedAt   time.Time // millisecond precision; zero if Persona sent none
	PayloadType string    // payload.data.type, e.g. "inquiry"
	PayloadID   string
	Inquiry     *Inquiry        // when the payload is an inquiry; nil otherwise
	Payload     json.RawMessage // the raw payload document, for storage

	// NotAfter is the latest time the event's timestamps are believed, set by VerifyWebhook:
	// the verification time plus the signature tolerance (the clock skew allowed). A time
	// beyond it, such as a created-at a year ahead, would otherwise win every later
	// "is this newer" comparison. Zero when unverified or the tolerance check is off.
	NotAfter time.Time
}

// ParseEvent decodes a webhook body. Malformed JSON or an event without id or
// name is an error; unknown event names and payload types are fine.
func ParseEvent(rawBody []byte) (*Event, error) {
	var doc struct {
		Data *struct {
			Type       string                     `json:"type"`
			ID         string                     `json:"id"`
			Attributes map[string]json.RawMessage `json:"attributes"`
		} `json:"data"`
	}
	if err := decodeJSON(rawBody, &doc); err != nil {
		return nil, fmt.Errorf("persona: parse webhook event: %w", err)
	}
	if doc.Data == nil || doc.Data.ID == "" {
		return nil, errors.New("persona: parse webhook event: no event id")
	}
	if err := checkID("event id", doc.Data.ID, PrefixEvent); err != nil {
		return nil, fmt.Errorf("persona: parse webhook event: %w", err)
	}
	// The webhook's own key inflection (kebab, snake or camel) applies to these keys.
	attrs := kebabKeys(doc.Data.Attributes)
	a := struct {
		Name, CreatedAt string
		Payload         json.RawMessage
	}{attrString(attrs, "name"), attrString(attrs, "created-at"), attrs["payload"]}
	if a.Name == "" {
		return nil, fmt.Errorf("persona: parse webhook event %s: no event name", doc.Data.ID)
	}
	if len(a.Name) > maxEventName {
		return nil, fmt.Errorf("persona: parse webhook event %s: event name %s is too long", doc.Data.ID, quoteID(a.Name))
	}
	ev := &Event{ID: doc.Data.ID, Name: a.Name}
	if raw, ok := attrs["created-at"]; ok && !isNull(raw) {
		t := parseTime(a.CreatedAt)
		if t == nil {
			return nil, fmt.Errorf("persona: parse webhook event %s: created-at %s is not a date", ev.ID, quoteID(string(raw)))
		}
		ev.CreatedAt = *t
	}
	if isNull(a.Payload) {
		return ev, nil
	}
	ev.Payload = append(json.RawMessage(nil), a.Payload...)
	var payload document
	if err := decodeJSON(a.Payload, &payload); err != nil {
		return nil, fmt.Errorf("persona: parse webhook event %s: payload: %w", ev.ID, err)
	}
	if isNull(payload.Data) {
		return ev, nil
	}
	var r resource
	if err := decodeJSON(payload.Data, &r); err != nil {
		return nil, fmt.Errorf("persona: parse webhook event %s: payload data: %w", ev.ID, err)
	}
	if err := checkPayloadID(r.Type, r.ID); err != nil {
		return nil, fmt.Errorf("persona: parse webhook event %s: payload: %w", ev.ID, err)
	}
	ev.PayloadType, ev.PayloadID = r.Type, r.ID
	r.Type = kebabKey(r.Type)
	if r.Type == "inquiry" {
		inq, err := inquiryFromResource(&r, payload.Included)
		if err != nil {
			return nil, fmt.Errorf("persona: parse webhook event %s: %w", ev.ID, err)
		}
		if err := inq.readable(); err != nil {
			return nil, fmt.Errorf("persona: parse webhook event %s: inquiry %s: %w", ev.ID, inq.ID, err)
		}
		ev.Inquiry = inq
	}
	return ev, nil
}

// payloadPrefixes are the id prefixes of the payload types an event may carry. Other types
// need only a well-formed id of some known prefix: they are kept but not acted on.
var payloadPrefixes = map[string][]string{
	"inquiry":         {PrefixInquiry},
	"inquiry-session": {PrefixSession},
	"account":         {PrefixAccount},
	"case":            {"case_"},
	"document":        {"doc_"},
	"report":          {"rep_"},
	"transaction":     {"txn_"},
	"selfie":          {"self_"},
	"verification":    {PrefixVerification},
}

func checkPayloadID(typ, id string) error {
	if id == "" && typ != "inquiry" {
		return nil
	}
	family, _, _ := strings.Cut(typ, "/") // verification/selfie, report/watchlist, ...
	if prefixes, ok := payloadPrefixes[family]; ok {
		return checkID(family+" id", id, prefixes...)
	}
	if !KnownID(id) {
		return fmt.Errorf("id %s is malformed: Persona ids are a known prefix followed by 1 to %d letters and digits", quoteID(id), MaxIDChars)
	}
	return nil
}

// VerifyWebhook verifies the signature and then parses the event: the one
// call a webhook handler needs.
func VerifyWebhook(header string, rawBody []byte, secrets []string, tolerance time.Duration, now time.Time) (*Event, error) {
	if err := VerifySignature(header, rawBody, secrets, tolerance, now); err != nil {
		return nil, err
	}
	ev, err := ParseEvent(rawBody)
	if err != nil {
		return nil, err
	}
	if tolerance == 0 {
		tolerance = DefaultWebhookTolerance
	}
	if tolerance > 0 {
		ev.NotAfter = now.Add(tolerance)
	}
	return ev, nil
}
