package sandbox

import (
	"encoding/json"
	"strings"
	"time"
)

// Everything in this file runs with s.mu held.

// createInput is what a new inquiry starts with (from the API or a template link).
type createInput struct {
	tmpl        *tmplDef
	referenceID string
	accountID   string
	note        *string
	tags        []string
	fields      map[string]field
	fieldOrder  []string
	redirectURI string
	creator     string
	expCreate   time.Duration
	expStart    time.Duration
	expResume   time.Duration
	otlExpiry   time.Duration
}

func (s *Sandbox) createInquiry(in createInput) *inquiry {
	t := s.clock.stamp()
	s.seq++
	q := &inquiry{
		seq:         s.seq,
		id:          newID("inq_"),
		status:      "created",
		referenceID: in.referenceID,
		note:        in.note,
		tags:        in.tags,
		creator:     in.creator,
		createdAt:   t,
		updatedAt:   t,
		prevStep:    stepStart,
		nextStep:    flowSteps[0].name,
		fields:      map[string]field{},
		tmpl:        in.tmpl,
		accountID:   in.accountID,
		redirectURI: in.redirectURI,
		expCreate:   orDefault(in.expCreate, s.expiry),
		expStart:    orDefault(in.expStart, s.expiry),
		expResume:   orDefault(in.expResume, s.expiry),
		otlExpiry:   in.otlExpiry,
	}
	for _, f := range standardFields {
		q.fields[f.key] = field{Type: f.typ}
	}
	for _, k := range in.fieldOrder {
		q.setField(k, in.fields[k])
	}
	q.expiresAt = t.Add(q.expCreate)
	s.inquiries[q.id] = q
	s.order = append(s.order, q)
	s.counters.created.Add(1)
	s.scheduleExpiry(q)
	s.emit(q, "inquiry.created", t)
	return q
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// accountFor finds or creates the account an inquiry attaches to.
func (s *Sandbox) accountFor(referenceID string) *account {
	if referenceID != "" {
		if a := s.accountsByRef[referenceID]; a != nil {
			return a
		}
	}
	t := s.clock.stamp()
	a := &account{id: newID("act_"), referenceID: referenceID, createdAt: t, updatedAt: t}
	s.accounts[a.id] = a
	if referenceID != "" {
		s.accountsByRef[referenceID] = a
	}
	return a
}

// emit records a webhook event for q's current state and queues its delivery.
func (s *Sandbox) emit(q *inquiry, name string, at time.Time) {
	id := newID("evt_")
	// Written in the webhook's own version and key inflection, whatever the API calls use.
	sh := s.webhookShapeNow()
	payload := obj{{"data", s.inquiryIn(q, sh)}, {"included", s.included(q, sh.defaultIncludesFor(defaultIncludes))}}
	body := obj{{"data", obj{
		{"type", "event"},
		{"id", id},
		{"attributes", obj{{"name", name}, {"payload", payload}, {"created-at", ts(at)}}},
	}}}
	b, err := json.Marshal(inflect(body, sh))
	if err != nil {
		panic("sandbox: marshal event: " + err.Error())
	}
	s.counters.events.Add(1)
	s.hooks.enqueue(&event{id: id, name: name, inquiryID: q.id, createdAt: at, body: b})
}

// scheduleExpiry (re)arms q's expiry timer for q.expiresAt.
func (s *Sandbox) scheduleExpiry(q *inquiry) {
	s.timers.stop(q.timer)
	q.timer = nil
	if !q.open() || q.expiresAt.IsZero() {
		return
	}
	q.timer = s.timers.after(time.Until(q.expiresAt), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.checkExpiry(q)
	})
}

// checkExpiry expires q if it is open and its expiry time has passed. Every
// read path calls it, so the status is right even before the timer fires.
func (s *Sandbox) checkExpiry(q *inquiry) {
	if q.open() && !q.expiresAt.IsZero() && !time.Now().Before(q.expiresAt) {
		s.expire(q)
	}
}

// settle moves q to status now: it stamps *at and updatedAt, lets set (if
// any) adjust q for that time, re-arms the expiry timer and emits event.
func (s *Sandbox) settle(q *inquiry, status string, at *time.Time, event string, set func(t time.Time)) {
	t := s.clock.stamp()
	q.status = status
	*at = t
	q.updatedAt = t
	if set != nil {
		set(t)
	}
	s.scheduleExpiry(q)
	s.emit(q, event, t)
}

func (s *Sandbox) expire(q *inquiry) {
	s.settle(q, "expired", &q.expiredAt, "inquiry.expired", func(t time.Time) { s.expireSessions(q, t) })
}

// expireSessions expires all of q's sessions and one-time links.
func (s *Sandbox) expireSessions(q *inquiry, t time.Time) {
	for _, id := range q.sessions {
		if ss := s.sessions[id]; ss != nil && ss.status != "expired" {
			ss.status = "expired"
			ss.expiredAt = t
		}
	}
	for _, l := range s.otls {
		if l.inquiryID == q.id && l.expiresAt.After(t) {
			l.expiresAt = t
		}
	}
}

func (s *Sandbox) start(q *inquiry) {
	s.settle(q, "pending", &q.startedAt, "inquiry.started", func(t time.Time) {
		// "Time interval from inquiry start after which an Inquiry expires" [OAS23].
		q.expiresAt = t.Add(q.expStart)
	})
}

func (s *Sandbox) transition(q *inquiry, from, to string) {
	t := s.clock.stamp()
	q.prevStep = from
	q.nextStep = to
	q.updatedAt = t
	s.emit(q, "inquiry.transitioned", t)
}

func (s *Sandbox) complete(q *inquiry) {
	s.settle(q, "completed", &q.completedAt, "inquiry.completed", func(time.Time) { q.outcome = "completed" })
	s.runWorkflow(q)
}

func (s *Sandbox) fail(q *inquiry) {
	s.settle(q, "failed", &q.failedAt, "inquiry.failed", func(time.Time) { q.outcome = "failed" })
}

// runWorkflow is the template's post-inquiry workflow, run on completion:
// "KYC" approves, "KYC with manual review" marks for review.
func (s *Sandbox) runWorkflow(q *inquiry) {
	if q.tmpl.review {
		s.markForReview(q)
		return
	}
	s.decide(q, "approved", nil, &ref{"workflow-run", newID("wfr_")})
}

func (s *Sandbox) decide(q *inquiry, status string, comment *string, reviewer *ref) {
	name := "inquiry.approved"
	if status == "declined" {
		name = "inquiry.declined"
	}
	s.settle(q, status, &q.decisionedAt, name, func(time.Time) {
		if comment != nil {
			q.reviewerComment = comment
		}
		q.reviewer = reviewer
	})
}

func (s *Sandbox) markForReview(q *inquiry) {
	s.settle(q, "needs_review", &q.markedAt, "inquiry.marked-for-review", nil)
}

// resume turns an expired inquiry back into a pending one (Persona: "If the
// status is expired, the status changes to pending") and restarts its expiry
// from now. It emits no event: Persona documents none for a resume.
func (s *Sandbox) resume(q *inquiry) {
	t := s.clock.stamp()
	if q.status == "expired" {
		q.status = "pending"
	}
	q.expiresAt = t.Add(q.expResume)
	q.updatedAt = t
	s.scheduleExpiry(q)
}

// stepInput is what a person entered on a step.
type stepInput struct {
	fields     map[string]field // details step: the (possibly edited) fields
	fieldOrder []string
	idClass    string // government ID step: dl, pp, id
	// idFirst and idLast are the name the person typed for the sample ID ("": ALEXANDER J SAMPLE).
	idFirst, idLast string
}

// idNames are the name parts the government ID reads, in the case Persona gives them.
func (in stepInput) idNames() (first, middle, last string) {
	if in.idFirst == "" && in.idLast == "" {
		return "ALEXANDER", "J", "SAMPLE"
	}
	return strings.ToUpper(in.idFirst), "", strings.ToUpper(in.idLast)
}

// submitStep submits q's next flow step with the given outcome, creating its
// verification and moving the inquiry on (started, transitioned, completed
// or failed, and the template's workflow).
func (s *Sandbox) submitStep(q *inquiry, pass bool, in stepInput) {
	st := flowSteps[q.step]
	for _, k := range in.fieldOrder {
		q.setField(k, in.fields[k])
	}
	v := s.newVerification(q, st, pass, in)
	q.verifications = append(q.verifications, v.id)
	if st.vtype == "verification/government-id" && pass {
		// Sandbox: "first and last names are always overwritten to
		// Alexander J Sample" (section 9.1), or to the name typed for the ID.
		first, middle, last := "Alexander", "J", "Sample"
		if in.idFirst != "" || in.idLast != "" {
			first, middle, last = in.idFirst, "", in.idLast
		}
		q.setField("name-first", field{Type: "string", Value: first})
		q.setField("name-middle", field{Type: "string", Value: nilIfEmpty(middle)})
		q.setField("name-last", field{Type: "string", Value: last})
	}
	if q.status == "created" {
		s.start(q)
	} else {
		q.updatedAt = s.clock.stamp()
	}
	if !pass {
		s.transition(q, st.name, stepFail)
		s.fail(q)
		return
	}
	q.step++
	if q.step < len(flowSteps) {
		s.transition(q, st.name, flowSteps[q.step].name)
		return
	}
	s.transition(q, st.name, stepSuccess)
	s.complete(q)
}

func (s *Sandbox) newVerification(q *inquiry, st stepDef, pass bool, in stepInput) *verification {
	created := s.clock.stamp()
	done := s.clock.stamp()
	status := "passed"
	if !pass {
		status = "failed"
	}
	country := strings.ToUpper(q.fieldString("address-country-code"))
	if country == "" {
		country = "US"
	}
	v := &verification{
		id:          newID("ver_"),
		vtype:       st.vtype,
		status:      status,
		inquiryID:   q.id,
		step:        st,
		createdAt:   created,
		submittedAt: created,
		completedAt: done,
		countryCode: country,
	}
	str := func(k string) any { return q.fieldValue(k) }
	switch st.vtype {
	case "verification/database":
		v.checks = databaseChecks(pass)
		v.attrs = obj{
			{"name-first", str("name-first")}, {"name-middle", str("name-middle")}, {"name-last", str("name-last")},
			{"address-street-1", str("address-street-1")}, {"address-street-2", str("address-street-2")},
			{"address-city", str("address-city")}, {"address-subdivision", str("address-subdivision")},
			{"address-postal-code", str("address-postal-code")},
			{"birthdate", str("birthdate")}, {"identification-number", str("identification-number")},
			{"document-number", nil}, {"phone-number", str("phone-number")}, {"email-address", str("email-address")},
		}
	case "verification/government-id":
		idClass := in.idClass
		if idClass == "" {
			idClass = "dl"
		}
		v.checks = governmentIDChecks(pass)
		first, middle, last := in.idNames()
		score := 96.5
		if !pass {
			score = 12.0
		}
		v.attrs = obj{
			{"entity-confidence-score", score},
			{"entity-confidence-reasons", []string{"generic"}},
			{"front-photo-url", nil}, {"back-photo-url", nil}, {"photo-urls", []any{}},
			{"selfie-photo", nil}, {"selfie-photo-url", nil}, {"video-url", nil},
			{"id-class", idClass}, {"capture-method", "upload"},
			{"name-first", nilIfEmpty(first)}, {"name-middle", nilIfEmpty(middle)}, {"name-last", nilIfEmpty(last)}, {"name-suffix", nil},
			{"birthdate", str("birthdate")},
			{"address-street-1", str("address-street-1")}, {"address-street-2", str("address-street-2")},
			{"address-city", str("address-city")}, {"address-subdivision", str("address-subdivision")},
			{"address-postal-code", str("address-postal-code")},
			{"issuing-authority", nil}, {"issuing-subdivision", nil}, {"nationality", nil},
			{"document-number", nil}, {"visa-status", nil},
			{"issue-date", created.AddDate(-2, 0, 0).Format("2006-01-02")},
			{"expiration-date", created.AddDate(3, 0, 0).Format("2006-01-02")},
			{"designations", []string{}}, {"birthplace", nil}, {"endorsements", nil}, {"height", nil},
			{"sex", nil}, {"restrictions", nil}, {"vehicle-class", nil},
			{"identification-number", "I1234562"},
		}
	case "verification/selfie":
		v.countryCode = ""
		v.checks = selfieChecks(pass)
		score := 100.0
		if !pass {
			score = 8.0
		}
		v.attrs = obj{
			{"selfie-similarity-score-left", score}, {"selfie-similarity-score-right", score},
			{"capture-method", "photo"}, {"document-similarity-score", nil},
			{"left-photo-url", nil}, {"center-photo-url", nil}, {"right-photo-url", nil},
			{"photo-urls", []any{}}, {"video-url", nil}, {"center-photo-face-coordinates", nil},
		}
	}
	s.verifs[v.id] = v
	return v
}

func mkChecks(pass bool, passing []check, failing map[string][]string) []check {
	out := make([]check, 0, len(passing))
	for _, c := range passing {
		if !pass {
			if reasons, ok := failing[c.name]; ok {
				c.status = "failed"
				c.reasons = reasons
			}
		}
		out = append(out, c)
	}
	return out
}

func databaseChecks(pass bool) []check {
	return mkChecks(pass, []check{
		{"database_identity_comparison", "passed", nil, "required"},
		{"database_deceased_detection", "passed", nil, "required"},
		{"database_address_deliverable_detection", "passed", nil, "not_required"},
		{"database_address_residential_detection", "passed", nil, "not_required"},
		{"database_po_box_detection", "passed", nil, "not_required"},
	}, map[string][]string{"database_identity_comparison": {"no_match"}})
}

func governmentIDChecks(pass bool) []check {
	na := func(name string, reason string, req string) check {
		return check{name, "not_applicable", []string{reason}, req}
	}
	return mkChecks(pass, []check{
		na("id_aamva_database_lookup", "disabled", "not_required"),
		{"id_age_comparison", "passed", nil, "not_required"},
		{"id_barcode_detection", "passed", nil, "not_required"},
		{"id_blur_detection", "passed", nil, "not_required"},
		{"id_color_inconsistency_detection", "passed", nil, "not_required"},
		{"id_compromised_detection", "passed", nil, "required"},
		{"id_disallowed_country_detection", "passed", nil, "required"},
		{"id_disallowed_type_detection", "passed", nil, "required"},
		{"id_double_side_detection", "passed", nil, "not_required"},
		{"id_electronic_replica_detection", "passed", nil, "not_required"},
		{"id_entity_detection", "passed", nil, "required"},
		{"id_expired_detection", "passed", nil, "required"},
		{"id_fabrication_detection", "passed", nil, "required"},
		{"id_glare_detection", "passed", nil, "not_required"},
		{"id_handwriting_detection", "passed", nil, "not_required"},
		{"id_mrz_detection", "not_applicable", []string{}, "not_required"},
		{"id_po_box_detection", "passed", nil, "not_required"},
		{"id_portrait_clarity_detection", "passed", nil, "not_required"},
		{"id_portrait_detection", "passed", nil, "required"},
		{"id_public_figure_detection", "passed", nil, "not_required"},
		na("id_real_id_detection", "disabled", "not_required"),
		na("id_repeat_detection", "not_enabled", "not_required"),
		na("id_selfie_comparison", "no_selfie", "not_required"),
		{"id_tamper_detection", "passed", nil, "required"},
		{"id_unprocessable_submission_detection", "passed", nil, "required"},
		{"id_valid_dates_detection", "passed", nil, "required"},
	}, map[string][]string{
		"id_entity_detection":   {"cannot_verify_id"},
		"id_portrait_detection": {"portrait_not_found"},
	})
}

func selfieChecks(pass bool) []check {
	return mkChecks(pass, []check{
		{"selfie_id_comparison", "passed", nil, "required"},
		{"selfie_pose_detection", "passed", nil, "required"},
		{"selfie_multiple_faces_detection", "passed", nil, "required"},
		{"selfie_pose_repeat_detection", "passed", nil, "not_required"},
		{"selfie_account_comparison", "not_applicable", []string{"no_account_selfie_present"}, "not_required"},
		{"selfie_suspicious_entity_detection", "passed", nil, "not_required"},
		{"selfie_liveness_detection", "passed", nil, "required"},
		{"selfie_glasses_detection", "passed", nil, "not_required"},
		{"selfie_glare_detection", "passed", nil, "not_required"},
		{"selfie_public_figure_detection", "passed", nil, "not_required"},
		{"selfie_age_comparison", "not_applicable", []string{"no_reference_birthdate"}, "not_required"},
		{"selfie_face_covering_detection", "passed", nil, "not_required"},
	}, map[string][]string{
		"selfie_id_comparison":      {"no_match"},
		"selfie_liveness_detection": {"no_live_face"},
	})
}

// newSession opens an inquiry session; it expires with the inquiry's expiry
// as it is now ("A session's expiry equals the inquiry's expiry at creation").
func (s *Sandbox) newSession(q *inquiry, handoff string) *session {
	t := s.clock.stamp()
	ss := &session{
		id:        newID("iqse_"),
		inquiryID: q.id,
		status:    "new",
		createdAt: t,
		expiresAt: q.expiresAt,
		handoff:   handoff,
	}
	if ss.expiresAt.IsZero() || !ss.expiresAt.After(t) {
		ss.expiresAt = t.Add(s.expiry)
	}
	s.sessions[ss.id] = ss
	q.sessions = append(q.sessions, ss.id)
	return ss
}

// sessionValid reports whether ss can still be used.
func (s *Sandbox) sessionValid(ss *session) bool {
	if ss.status == "expired" {
		return false
	}
	if !time.Now().Before(ss.expiresAt) {
		ss.status = "expired"
		ss.expiredAt = ss.expiresAt
		return false
	}
	return true
}

// unusedSession returns q's newest valid session that nobody has used yet.
func (s *Sandbox) unusedSession(q *inquiry) *session {
	for i := len(q.sessions) - 1; i >= 0; i-- {
		ss := s.sessions[q.sessions[i]]
		if ss != nil && ss.status == "new" && s.sessionValid(ss) {
			return ss
		}
	}
	return nil
}

// redact removes the PII of q and its children.
func (s *Sandbox) redact(q *inquiry) {
	t := s.clock.stamp()
	for k, f := range q.fields {
		f.Value = nil
		q.fields[k] = f
	}
	q.redactedAt = t
	q.updatedAt = t
	for _, id := range q.verifications {
		v := s.verifs[id]
		if v == nil {
			continue
		}
		v.redactedAt = t
		for i, e := range v.attrs {
			if strings.HasPrefix(e.k, "name-") || strings.HasPrefix(e.k, "address-") ||
				e.k == "birthdate" || e.k == "identification-number" || e.k == "phone-number" ||
				e.k == "email-address" || e.k == "document-number" {
				v.attrs[i].v = nil
			}
		}
	}
	for _, id := range q.sessions {
		if ss := s.sessions[id]; ss != nil {
			ss.ip, ss.userAgent = "", ""
		}
	}
}

// nilIfEmpty is s, or JSON null when it is empty (Persona's way of saying "not on the ID").
func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
