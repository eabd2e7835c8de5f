package sandbox

// POST /inquiries/{id}/...: approve, decline, mark-for-review, expire, resume,
// generate-one-time-link, tags and perform-simulate-actions.

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

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

// plainAction finds the inquiry of an action that takes no meta: an unknown
// id is refused first, then any include.
func (s *Sandbox) plainAction(c *apiCall) (*inquiry, *apiResult) {
	q := s.findInquiry(c.id)
	if q == nil {
		nf := notFound()
		return nil, &nf
	}
	if _, bad := c.includes(nil); bad != nil {
		return nil, bad
	}
	return q, nil
}

func (s *Sandbox) apiMarkForReview(c *apiCall) apiResult {
	q, bad := s.plainAction(c)
	if bad != nil {
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
	q, bad := s.plainAction(c)
	if bad != nil {
		return *bad
	}
	if !q.open() {
		return conflict("Inquiry cannot be expired while " + q.status + "; only created and pending inquiries can be expired")
	}
	s.expire(q)
	return s.inquiryDoc(c, http.StatusOK, q, nil, nil)
}

func (s *Sandbox) apiResume(c *apiCall) apiResult {
	q, bad := s.plainAction(c)
	if bad != nil {
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
	return s.apiTags(c, false, true, func(q *inquiry, names []string) { q.tags = dedupe(append(q.tags, names...)) })
}

func (s *Sandbox) apiRemoveTag(c *apiCall) apiResult {
	return s.apiTags(c, false, false, func(q *inquiry, names []string) {
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
	return s.apiTags(c, true, true, func(q *inquiry, names []string) { q.tags = dedupe(names) })
}

// apiTags changes q's tags; adds says the change may create tags (bounded by the active-tag limit).
func (s *Sandbox) apiTags(c *apiCall, many, adds bool, apply func(*inquiry, []string)) apiResult {
	q := s.findInquiry(c.id)
	if q == nil {
		return notFound()
	}
	names, bad := s.tagNames(c, many)
	if bad != nil {
		return *bad
	}
	if bad := s.overTagLimit(names); adds && bad != nil {
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
				return errResult(404, "Record not found", "data.verification_template_id is not found")
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
