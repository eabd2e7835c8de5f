package sandbox

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// obj is a JSON object that keeps its keys in the order they were added, so
// responses read like Persona's documented examples.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(e.k)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// get returns the value stored under k, if any.
func (o obj) get(k string) (any, bool) {
	for _, e := range o {
		if e.k == k {
			return e.v, true
		}
	}
	return nil, false
}

// ref is a JSON:API resource identifier.
type ref struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

func one(r *ref) obj {
	if r == nil {
		return obj{{"data", nil}}
	}
	return obj{{"data", *r}}
}

func many(rs []ref) obj {
	if rs == nil {
		rs = []ref{}
	}
	return obj{{"data", rs}}
}

// field is one entry of an inquiry's fields: {type, value}.
type field struct {
	Type  string
	Value any // nil, string, json.Number, bool, []any, map[string]any
}

// standardFields are the template fields of the seeded templates, in the order
// of Persona's examples (section 2.1 of the contract).
var standardFields = []struct{ key, typ, label string }{
	{"name-first", "string", "First name"},
	{"name-middle", "string", "Middle name"},
	{"name-last", "string", "Last name"},
	{"birthdate", "date", "Date of birth"},
	{"address-street-1", "string", "Street address"},
	{"address-street-2", "string", "Apartment or suite"},
	{"address-city", "string", "City"},
	{"address-subdivision", "string", "State or region"},
	{"address-postal-code", "string", "Postal code"},
	{"address-country-code", "string", "Country code"},
	{"email-address", "string", "Email address"},
	{"phone-number", "string", "Phone number"},
	{"identification-number", "string", "Identification number"},
}

func isStandardField(k string) (string, bool) {
	for _, f := range standardFields {
		if f.key == k {
			return f.typ, true
		}
	}
	return "", false
}

// piiFields are the flattened top-level PII attributes of a 2023-01-05 inquiry.
var piiAttributes = []string{
	"name-first", "name-middle", "name-last", "birthdate",
	"address-street-1", "address-street-2", "address-city",
	"address-subdivision", "address-subdivision-abbr",
	"address-postal-code", "address-postal-code-abbr",
	"social-security-number", "identification-number",
	"email-address", "phone-number",
}

type tmplDef struct {
	id, versionID, name string
	review              bool // "KYC with manual review": mark for review instead of approving
	createdAt           time.Time
}

func (t *tmplDef) ref() *ref        { return &ref{"inquiry-template", t.id} }
func (t *tmplDef) versionRef() *ref { return &ref{"inquiry-template-version", t.versionID} }

// flow steps, in order. Each submitted step creates one verification.
type stepDef struct {
	name     string // Dynamic Flow step name (previous-step-name / next-step-name)
	vtype    string // verification type created by the step
	vtmpl    string
	vtmplv   string
	title    string // the page's heading
	progress string
}

var flowSteps = []stepDef{
	{"verification_database", "verification/database", vtmplDatabase, vtmplvDatabase, "Confirm your details", "Step 1 of 3"},
	{"verification_government_id", "verification/government-id", vtmplGovernmentID, vtmplvGovernmentID, "Government ID", "Step 2 of 3"},
	{"verification_selfie", "verification/selfie", vtmplSelfie, vtmplvSelfie, "Selfie", "Step 3 of 3"},
}

const (
	stepStart   = "start"
	stepSuccess = "success"
	stepFail    = "fail"
)

type inquiry struct {
	seq             int64
	id              string
	status          string
	referenceID     string // "" → null
	note            *string
	tags            []string
	creator         string
	reviewerComment *string
	createdAt       time.Time
	updatedAt       time.Time
	startedAt       time.Time
	expiresAt       time.Time
	completedAt     time.Time
	failedAt        time.Time
	markedAt        time.Time
	decisionedAt    time.Time
	expiredAt       time.Time
	redactedAt      time.Time
	prevStep        string
	nextStep        string
	fields          map[string]field
	customKeys      []string // custom field keys in the order first seen
	tmpl            *tmplDef
	accountID       string
	reviewer        *ref
	verifications   []string
	sessions        []string
	redirectURI     string
	step            int // index of the next flow step to submit
	outcome         string
	expCreate       time.Duration
	expStart        time.Duration
	expResume       time.Duration
	otlExpiry       time.Duration
	timer           *timerHandle
}

func (q *inquiry) open() bool { return q.status == "created" || q.status == "pending" }

func (q *inquiry) fieldString(k string) string {
	f, ok := q.fields[k]
	if !ok || f.Value == nil {
		return ""
	}
	switch v := f.Value.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

func (q *inquiry) fieldValue(k string) any {
	if f, ok := q.fields[k]; ok {
		return f.Value
	}
	return nil
}

func (q *inquiry) setField(k string, f field) {
	if _, ok := q.fields[k]; !ok {
		if _, std := isStandardField(k); !std {
			q.customKeys = append(q.customKeys, k)
		}
	}
	q.fields[k] = f
}

type session struct {
	id        string
	inquiryID string
	status    string // new, active, expired
	createdAt time.Time
	startedAt time.Time
	expiredAt time.Time
	expiresAt time.Time
	ip        string
	userAgent string
	handoff   string // device-handoff-method, "" → null
}

type oneTimeLink struct {
	code      string
	short     string
	inquiryID string
	sessionID string
	expiresAt time.Time
	firstUsed time.Time
	browser   string // the browser that first opened it (its sandbox_browser cookie)
}

// otlGrace is how long a one-time link keeps working after its first use, in the browser that
// used it (a reload); another browser is refused at once, as a one-time link is one person's.
const otlGrace = 5 * time.Minute

type check struct {
	name        string
	status      string
	reasons     []string
	requirement string
}

type verification struct {
	id          string
	vtype       string
	status      string
	inquiryID   string
	step        stepDef
	createdAt   time.Time
	submittedAt time.Time
	completedAt time.Time
	redactedAt  time.Time
	countryCode string
	checks      []check
	attrs       obj // type-specific attributes
}

type account struct {
	id          string
	referenceID string
	createdAt   time.Time
	updatedAt   time.Time
}

// ---- serialization (Persona-Version 2023-01-05, Key-Inflection kebab) ----

func (s *Sandbox) inquiryResource(q *inquiry) obj {
	fields := obj{}
	for _, f := range standardFields {
		v := q.fields[f.key]
		fields = append(fields, kv{f.key, obj{{"type", f.typ}, {"value", v.Value}}})
	}
	for _, k := range q.customKeys {
		v := q.fields[k]
		fields = append(fields, kv{k, obj{{"type", v.Type}, {"value", v.Value}}})
	}
	var refID any
	if q.referenceID != "" {
		refID = q.referenceID
	}
	tags := q.tags
	if tags == nil {
		tags = []string{}
	}
	attrs := obj{
		{"status", q.status},
		{"reference-id", refID},
		{"note", q.note},
		{"behaviors", obj{
			{"request-spoof-attempts", 0}, {"user-agent-spoof-attempts", 0},
			{"distraction-events", 0}, {"hesitation-baseline", 0}, {"hesitation-count", 0},
			{"hesitation-time", 0}, {"shortcut-copies", 0}, {"shortcut-pastes", 0},
			{"autofill-cancels", 0}, {"autofill-starts", 0}, {"devtools-open", false},
			{"completion-time", completionTime(q)}, {"hesitation-percentage", 0},
			{"behavior-threat-level", "low"},
		}},
		{"tags", tags},
		{"creator", q.creator},
		{"reviewer-comment", q.reviewerComment},
		{"created-at", ts(q.createdAt)},
		{"updated-at", ts(q.updatedAt)},
		{"started-at", ts(q.startedAt)},
		{"expires-at", ts(q.expiresAt)},
		{"completed-at", ts(q.completedAt)},
		{"failed-at", ts(q.failedAt)},
		{"marked-for-review-at", ts(q.markedAt)},
		{"decisioned-at", ts(q.decisionedAt)},
		{"expired-at", ts(q.expiredAt)},
		{"redacted-at", ts(q.redactedAt)},
		{"previous-step-name", q.prevStep},
		{"next-step-name", q.nextStep},
	}
	for _, k := range piiAttributes {
		var v any
		switch k {
		case "address-subdivision-abbr":
			v = subdivisionAbbr(q.fieldString("address-subdivision"), q.fieldString("address-country-code"))
		case "address-postal-code-abbr":
			v = q.fieldValue("address-postal-code")
		default:
			v = q.fieldValue(k)
		}
		attrs = append(attrs, kv{k, v})
	}
	attrs = append(attrs, kv{"fields", fields})

	var acct *ref
	if q.accountID != "" {
		acct = &ref{"account", q.accountID}
	}
	vers := make([]ref, 0, len(q.verifications))
	for _, id := range q.verifications {
		if v := s.verifs[id]; v != nil {
			vers = append(vers, ref{v.vtype, v.id})
		}
	}
	sess := make([]ref, 0, len(q.sessions))
	for _, id := range q.sessions {
		sess = append(sess, ref{"inquiry-session", id})
	}
	rels := obj{
		{"account", one(acct)},
		{"template", one(nil)},
		{"inquiry-template", one(q.tmpl.ref())},
		{"inquiry-template-version", one(q.tmpl.versionRef())},
		{"transaction", one(nil)},
		{"reviewer", one(q.reviewer)},
		{"reports", many(nil)},
		{"verifications", many(vers)},
		{"sessions", many(sess)},
		{"documents", many(nil)},
		{"selfies", many(nil)},
	}
	return obj{{"type", "inquiry"}, {"id", q.id}, {"attributes", attrs}, {"relationships", rels}}
}

func completionTime(q *inquiry) any {
	end := q.completedAt
	if end.IsZero() {
		end = q.failedAt
	}
	if end.IsZero() || q.startedAt.IsZero() {
		return 0
	}
	return end.Sub(q.startedAt).Seconds()
}

func templateResource(t *tmplDef) obj {
	return obj{
		{"type", "inquiry-template"},
		{"id", t.id},
		{"attributes", obj{{"status", "active"}, {"name", t.name}}},
		{"relationships", obj{{"latest-published-version", one(t.versionRef())}}},
	}
}

func templateVersionResource(t *tmplDef) obj {
	return obj{
		{"type", "inquiry-template-version"},
		{"id", t.versionID},
		{"attributes", obj{
			{"name-display", t.name},
			{"status", "published"},
			{"enabled-locales", []string{"en-US"}},
			{"created-at", ts(t.createdAt)},
			{"updated-at", ts(t.createdAt)},
			{"published-at", ts(t.createdAt)},
		}},
		{"relationships", obj{{"inquiry-template", one(t.ref())}}},
	}
}

func sessionResource(ss *session) obj {
	var handoff any
	if ss.handoff != "" {
		handoff = ss.handoff
	}
	var ip, ua any
	if ss.ip != "" {
		ip = ss.ip
	}
	if ss.userAgent != "" {
		ua = ss.userAgent
	}
	return obj{
		{"type", "inquiry-session"},
		{"id", ss.id},
		{"attributes", obj{
			{"status", ss.status},
			{"created-at", ts(ss.createdAt)},
			{"started-at", ts(ss.startedAt)},
			{"expired-at", ts(ss.expiredAt)},
			{"ip-address", ip},
			{"user-agent", ua},
			{"os-name", nil},
			{"os-full-version", nil},
			{"device-type", nil},
			{"device-name", nil},
			{"browser-name", nil},
			{"browser-full-version", nil},
			{"mobile-sdk-name", nil},
			{"mobile-sdk-full-version", nil},
			{"device-handoff-method", handoff},
			{"is-proxy", false},
			{"is-tor", false},
			{"is-datacenter", false},
			{"is-vpn", false},
			{"threat-level", "low"},
			{"country-code", nil},
			{"country-name", nil},
			{"region-code", nil},
			{"region-name", nil},
			{"latitude", nil},
			{"longitude", nil},
		}},
		{"relationships", obj{{"inquiry", one(&ref{"inquiry", ss.inquiryID})}}},
	}
}

func accountResource(a *account) obj {
	var refID any
	if a.referenceID != "" {
		refID = a.referenceID
	}
	return obj{
		{"type", "account"},
		{"id", a.id},
		{"attributes", obj{
			{"reference-id", refID},
			{"account-type-name", "User"},
			{"created-at", ts(a.createdAt)},
			{"updated-at", ts(a.updatedAt)},
			{"redacted-at", nil},
			{"fields", obj{}},
			{"tags", []string{}},
		}},
	}
}

func (s *Sandbox) verificationResource(v *verification) obj {
	checks := make([]obj, 0, len(v.checks))
	for _, c := range v.checks {
		reasons := c.reasons
		if reasons == nil {
			reasons = []string{}
		}
		checks = append(checks, obj{
			{"name", c.name}, {"status", c.status}, {"reasons", reasons},
			{"requirement", c.requirement}, {"metadata", obj{}},
		})
	}
	var cc any
	if v.countryCode != "" {
		cc = v.countryCode
	}
	attrs := obj{
		{"status", v.status},
		{"created-at", ts(v.createdAt)},
		{"created-at-ts", unixOrNil(v.createdAt)},
		{"submitted-at", ts(v.submittedAt)},
		{"submitted-at-ts", unixOrNil(v.submittedAt)},
		{"completed-at", ts(v.completedAt)},
		{"completed-at-ts", unixOrNil(v.completedAt)},
		{"redacted-at", ts(v.redactedAt)},
		{"country-code", cc},
		{"checks", checks},
	}
	attrs = append(attrs, v.attrs...)
	s.withPhotos(v, attrs)
	q := s.inquiries[v.inquiryID]
	kind := strings.TrimPrefix(v.vtype, "verification/")
	rels := obj{
		{"inquiry", one(&ref{"inquiry", v.inquiryID})},
		{"template", one(nil)},
		{"inquiry-template-version", one(q.tmpl.versionRef())},
		{"inquiry-template", one(q.tmpl.ref())},
		{"transaction", one(nil)},
		{"verification-template", one(&ref{"verification-template/" + kind, v.step.vtmpl})},
		{"verification-template-version", one(&ref{"verification-template-version/" + kind, v.step.vtmplv})},
	}
	if v.vtype == "verification/government-id" {
		rels = append(rels, kv{"document", one(&ref{"document/government-id", governmentIDDocument(v.id)})})
	}
	return obj{{"type", v.vtype}, {"id", v.id}, {"attributes", attrs}, {"relationships", rels}}
}

// governmentIDDocument is the id of the document a government-ID verification read: one per
// verification, so derived from its id rather than stored.
func governmentIDDocument(verificationID string) string {
	return "doc_" + strings.TrimPrefix(verificationID, "ver_")
}

// usStates maps US state names to their postal abbreviations, for
// address-subdivision-abbr.
var usStates = map[string]string{
	"alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
	"colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
	"florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL",
	"indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
	"maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN",
	"mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
	"new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY",
	"north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR",
	"pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
	"tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
	"washington": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
	"puerto rico": "PR",
}

func subdivisionAbbr(sub, country string) any {
	if sub == "" {
		return nil
	}
	if country == "" || strings.EqualFold(country, "US") {
		if a, ok := usStates[strings.ToLower(strings.TrimSpace(sub))]; ok {
			return a
		}
		if len(sub) == 2 {
			return strings.ToUpper(sub)
		}
	}
	return sub
}
