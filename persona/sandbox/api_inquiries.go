package sandbox

// The inquiry itself: create, retrieve, update, redact.

import (
	"net/http"
	"strings"
)

func (s *Sandbox) findInquiry(id string) *inquiry {
	q := s.inquiries[id]
	if q != nil {
		s.checkExpiry(q)
	}
	return q
}

const msgTemplateMissing = "You must pass in either template-id OR inquiry-template-id OR inquiry-template-version-id"

func (s *Sandbox) apiCreateInquiry(c *apiCall) apiResult {
	if c.doc == nil {
		return badRequest("data must be filled")
	}
	attrs, bad := c.dataAttributes()
	if bad != nil {
		return *bad
	}
	meta, bad := c.meta()
	if bad != nil {
		return *bad
	}

	var ids [3]string
	for i, k := range []string{"template-id", "inquiry-template-id", "inquiry-template-version-id"} {
		v, _, bad := str(attrs, k, "data.attributes."+k)
		if bad != nil {
			return *bad
		}
		ids[i] = strings.TrimSpace(v)
	}
	given := 0
	for _, v := range ids {
		if v != "" {
			given++
		}
	}
	if given != 1 {
		return badRequest(msgTemplateMissing)
	}
	var tmpl *tmplDef
	switch {
	case ids[0] != "":
		return errResult(404, "Record not found", "data.attributes.template_id is not found")
	case ids[1] != "":
		if tmpl = s.tmplByID[ids[1]]; tmpl == nil {
			return errResult(404, "Record not found", "data.attributes.inquiry_template_id is not found")
		}
	default:
		if tmpl = s.tmplByVersion[ids[2]]; tmpl == nil {
			return errResult(404, "Record not found", "data.attributes.inquiry_template_version_id is not found")
		}
	}

	in := createInput{tmpl: tmpl, creator: "API"}
	attrRef, _, bad := str(attrs, "reference-id", "data.attributes.reference-id")
	if bad != nil {
		return *bad
	}
	metaRef, metaRefSet, bad := str(meta, "auto-create-account-reference-id", "meta.auto-create-account-reference-id")
	if bad != nil {
		return *bad
	}
	autoAccount, bad := boolean(meta, "auto-create-account", "meta.auto-create-account", true)
	if bad != nil {
		return *bad
	}
	if _, typeSet := meta["auto-create-account-type-id"]; !autoAccount && (metaRefSet || typeSet) {
		return badRequest("meta.auto-create-account-reference-id and meta.auto-create-account-type-id require meta.auto-create-account to be true")
	}
	in.referenceID = strings.TrimSpace(attrRef)
	if metaRefSet && strings.TrimSpace(metaRef) != "" {
		in.referenceID = strings.TrimSpace(metaRef)
	}
	accountID, _, bad := str(attrs, "account-id", "data.attributes.account-id")
	if bad != nil {
		return *bad
	}
	if creator, _, bad := str(attrs, "creator-email-address", "data.attributes.creator-email-address"); bad != nil {
		return *bad
	} else if creator != "" {
		in.creator = creator
	}
	if in.redirectURI, _, bad = str(attrs, "redirect-uri", "data.attributes.redirect-uri"); bad != nil {
		return *bad
	}
	if in.redirectURI != "" && !safeRedirect(in.redirectURI) {
		return invalid("data.attributes.redirect-uri must be an absolute URI", "/data/attributes/redirect-uri")
	}
	if note, set, bad := str(attrs, "note", "data.attributes.note"); bad != nil {
		return *bad
	} else if set {
		in.note = &note
	}
	if in.tags, bad = stringList(attrs["tags"], "data.attributes.tags"); bad != nil {
		return *bad
	}
	if bad := s.overTagLimit(in.tags); bad != nil {
		return *bad
	}

	if in.fields, in.fieldOrder, bad = attributeFields(attrs, c.shape); bad != nil {
		return *bad
	}

	if in.expCreate, bad = seconds(meta, "expiration-after-create-interval-seconds", "meta.expiration-after-create-interval-seconds"); bad != nil {
		return *bad
	}
	if in.expStart, bad = seconds(meta, "expiration-after-start-interval-seconds", "meta.expiration-after-start-interval-seconds"); bad != nil {
		return *bad
	}
	if in.expResume, bad = seconds(meta, "expiration-after-resume-interval-seconds", "meta.expiration-after-resume-interval-seconds"); bad != nil {
		return *bad
	}
	if in.otlExpiry, bad = seconds(meta, "one-time-link-expiration-seconds", "meta.one-time-link-expiration-seconds"); bad != nil {
		return *bad
	}
	wantSession, bad := boolean(meta, "auto-create-inquiry-session", "meta.auto-create-inquiry-session", false)
	if bad != nil {
		return *bad
	}
	wantLink, bad := boolean(meta, "auto-create-one-time-link", "meta.auto-create-one-time-link", false)
	if bad != nil {
		return *bad
	}
	if _, bad := c.includes(nil); bad != nil {
		return *bad
	}

	switch {
	case accountID != "":
		a := s.accounts[accountID]
		if a == nil {
			return errResult(404, "Record not found", "data.attributes.account_id is not found")
		}
		in.accountID = a.id
		if in.referenceID == "" {
			in.referenceID = a.referenceID
		}
	case autoAccount:
		in.accountID = s.accountFor(in.referenceID).id
	}

	q := s.createInquiry(in)
	// Persona always answers a create with meta, its three keys null unless asked for.
	meta2 := obj{{"session-token", nil}, {"one-time-link", nil}, {"one-time-link-short", nil}}
	if wantSession {
		ss := s.newSession(q, "")
		meta2[0].v = s.sessionToken(ss, c.base)
	}
	if wantLink {
		l := s.oneTimeLinkFor(q, 0)
		meta2[1].v = c.base + "/verify?code=" + l.code
		meta2[2].v = c.base + "/verify?code=" + l.short
	}
	return s.inquiryDoc(c, http.StatusCreated, q, nil, meta2)
}

func (s *Sandbox) apiRetrieveInquiry(c *apiCall) apiResult {
	q := s.findInquiry(c.id)
	if q == nil {
		return notFound()
	}
	return s.inquiryDoc(c, http.StatusOK, q, defaultIncludes, nil)
}

func (s *Sandbox) apiUpdateInquiry(c *apiCall) apiResult {
	q := s.findInquiry(c.id)
	if q == nil {
		return notFound()
	}
	attrs, bad := c.dataAttributes()
	if bad != nil {
		return *bad
	}
	if !q.redactedAt.IsZero() {
		return conflict("Inquiry already redacted")
	}
	var note *string
	noteV, noteSet, bad := str(attrs, "note", "data.attributes.note")
	if bad != nil {
		return *bad
	}
	if noteSet {
		note = &noteV
	}
	_, tagsSet := attrs["tags"]
	tags, bad := stringList(attrs["tags"], "data.attributes.tags")
	if bad != nil {
		return *bad
	}
	if bad := s.overTagLimit(tags); bad != nil {
		return *bad
	}
	fields, order, bad := attributeFields(attrs, c.shape)
	if bad != nil {
		return *bad
	}
	if _, bad := c.includes(nil); bad != nil {
		return *bad
	}
	if noteSet || (attrs["note"] == nil && hasKey(attrs, "note")) {
		q.note = note
	}
	if tagsSet {
		q.tags = dedupe(tags)
	}
	for _, k := range order {
		q.setField(k, fields[k])
	}
	q.updatedAt = s.clock.stamp()
	return s.inquiryDoc(c, http.StatusOK, q, nil, nil)
}

func (s *Sandbox) apiRedactInquiry(c *apiCall) apiResult {
	q := s.findInquiry(c.id)
	if q == nil {
		return notFound()
	}
	if !q.redactedAt.IsZero() {
		return conflict("Inquiry already redacted")
	}
	s.redact(q)
	s.emit(q, "inquiry.redacted", q.redactedAt)
	return s.inquiryDoc(c, http.StatusOK, q, nil, nil)
}
