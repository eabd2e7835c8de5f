package sandbox

// GET /inquiries: filters and cursor pagination.

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

var listFilters = map[string]bool{
	"reference-id": true, "account-id": true, "inquiry-template-id": true, "template-id": true,
	"status": true, "created-at-start": true, "created-at-end": true, "note": true, "inquiry-id": true,
}

func parseTime(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (s *Sandbox) apiListInquiries(c *apiCall) apiResult {
	if _, ok := c.q["include"]; ok {
		return badRequest("include is not supported on list endpoints")
	}
	size := 10
	if v := c.q.Get("page[size]"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return badRequest("page[size] must be an integer between 1 and 100")
		}
		size = n
	}
	after, before := c.q.Get("page[after]"), c.q.Get("page[before]")
	if after != "" && before != "" {
		return badRequest("page[after] and page[before] cannot be used together")
	}
	stuck := s.Knobs().StuckCursor
	if stuck {
		after, before = "", ""
	}

	filters := map[string][]string{}
	for key, vals := range c.q {
		if !strings.HasPrefix(key, "filter[") {
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(key, "filter["), "[]")
		name = strings.TrimSuffix(name, "]")
		if !listFilters[name] {
			return badRequest(key + " is not a supported filter")
		}
		for _, v := range vals {
			if name == "note" || name == "reference-id" || strings.HasPrefix(name, "created-at") {
				filters[name] = append(filters[name], v)
				continue
			}
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					filters[name] = append(filters[name], p)
				}
			}
		}
	}
	if _, ok := filters["note"]; ok && len(filters) > 1 {
		return badRequest("filter[note] must be the only filter")
	}
	if len(filters["inquiry-id"]) > 100 {
		return badRequest("filter[inquiry-id] accepts at most 100 ids")
	}
	var start, end time.Time
	if v := filters["created-at-start"]; len(v) > 0 {
		t, ok := parseTime(v[0])
		if !ok {
			return badRequest("filter[created-at-start] must be an ISO 8601 datetime")
		}
		start = t
	}
	if v := filters["created-at-end"]; len(v) > 0 {
		t, ok := parseTime(v[0])
		if !ok {
			return badRequest("filter[created-at-end] must be an ISO 8601 datetime")
		}
		end = t
	}
	set := func(name string) map[string]bool {
		vals, ok := filters[name]
		if !ok {
			return nil
		}
		m := map[string]bool{}
		for _, v := range vals {
			m[v] = true
		}
		return m
	}
	statuses, templates, legacy, accountsF, ids := set("status"), set("inquiry-template-id"), set("template-id"), set("account-id"), set("inquiry-id")
	refs, notes := filters["reference-id"], filters["note"]

	match := func(q *inquiry) bool {
		switch {
		case statuses != nil && !statuses[q.status],
			templates != nil && !templates[q.tmpl.id],
			legacy != nil, // no legacy templates in the sandbox
			accountsF != nil && !accountsF[q.accountID],
			ids != nil && !ids[q.id],
			len(refs) > 0 && q.referenceID != refs[0],
			len(notes) > 0 && (q.note == nil || *q.note != notes[0]),
			!start.IsZero() && q.createdAt.Before(start),
			!end.IsZero() && q.createdAt.After(end):
			return false
		}
		return true
	}

	var cursor *inquiry
	if after != "" || before != "" {
		cursor = s.inquiries[after+before]
		if cursor == nil {
			name := "page[after]"
			if before != "" {
				name = "page[before]"
			}
			return badRequest(name + " must be the id of an inquiry")
		}
	}
	// matched, newest first (creation order reversed).
	var matched []*inquiry
	for i := len(s.order) - 1; i >= 0; i-- {
		q := s.order[i]
		s.checkExpiry(q)
		if match(q) {
			matched = append(matched, q)
		}
	}
	var page []*inquiry
	switch {
	case before != "":
		var newer []*inquiry
		for _, q := range matched {
			if q.seq > cursor.seq {
				newer = append(newer, q)
			}
		}
		if len(newer) > size {
			newer = newer[len(newer)-size:]
		}
		page = newer
	default:
		for _, q := range matched {
			if cursor != nil && q.seq >= cursor.seq {
				continue
			}
			page = append(page, q)
			if len(page) == size {
				break
			}
		}
	}
	hiSeq, loSeq := int64(1<<62), int64(-1)
	if len(page) > 0 {
		hiSeq, loSeq = page[0].seq, page[len(page)-1].seq
	} else if cursor != nil {
		hiSeq, loSeq = cursor.seq, cursor.seq
	}
	hasNewer, hasOlder := false, false
	for _, q := range matched {
		if q.seq > hiSeq && (len(page) > 0 || cursor != nil) {
			hasNewer = true
		}
		if q.seq < loSeq {
			hasOlder = true
		}
	}
	link := func(param, id string) any {
		v := url.Values{}
		for k, vals := range c.q {
			if k != "page[after]" && k != "page[before]" {
				v[k] = vals
			}
		}
		v.Set(param, id)
		return "/api/v1/inquiries?" + v.Encode()
	}
	var prev, next any
	first, last := "", ""
	if cursor != nil {
		first, last = cursor.id, cursor.id
	}
	if len(page) > 0 {
		first, last = page[0].id, page[len(page)-1].id
	}
	if hasNewer && first != "" {
		prev = link("page[before]", first)
	}
	if (hasOlder || stuck) && last != "" {
		next = link("page[after]", last)
	}
	data := make([]obj, 0, len(page))
	for _, q := range page {
		data = append(data, c.sparse(s.inquiryIn(q, c.shape)))
	}
	return apiResult{http.StatusOK, obj{{"data", data}, {"links", obj{{"prev", prev}, {"next", next}}}}}
}
