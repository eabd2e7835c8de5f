package sandbox

// Answer documents: include, sparse fieldsets (?fields[type]=) and inquiryDoc.

import (
	"strconv"
	"strings"
)

var defaultIncludes = []string{"sessions", "verifications", "inquiry-template"}

var knownIncludes = map[string]bool{
	"account": true, "template": true, "inquiry-template": true, "inquiry-template-version": true,
	"inquiry-template.latest-published-version": true, "transaction": true, "reviewer": true,
	"reports": true, "verifications": true, "sessions": true, "documents": true, "selfies": true,
}

// includes returns the include paths of the request, or def without ?include.
func (c *apiCall) includes(def []string) ([]string, *apiResult) {
	vals, present := c.q["include"]
	if !present {
		return def, nil
	}
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if !knownIncludes[p] {
				r := badRequest("include " + strconv.Quote(p) + " is not a relationship of inquiry")
				return nil, &r
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// included serializes q's related objects named by paths (deduplicated).
func (s *Sandbox) included(q *inquiry, paths []string) []obj {
	out := []obj{}
	seen := map[string]bool{}
	add := func(o obj) {
		t, _ := o.get("type")
		id, _ := o.get("id")
		k := t.(string) + "/" + id.(string)
		if !seen[k] {
			seen[k] = true
			out = append(out, o)
		}
	}
	for _, p := range paths {
		switch p {
		case "account":
			if a := s.accounts[q.accountID]; a != nil {
				add(accountResource(a))
			}
		case "inquiry-template":
			add(templateResource(q.tmpl))
		case "inquiry-template-version":
			add(templateVersionResource(q.tmpl))
		case "inquiry-template.latest-published-version":
			add(templateResource(q.tmpl))
			add(templateVersionResource(q.tmpl))
		case "verifications":
			for _, id := range q.verifications {
				if v := s.verifs[id]; v != nil {
					add(s.verificationResource(v))
				}
			}
		case "sessions":
			for _, id := range q.sessions {
				if ss := s.sessions[id]; ss != nil {
					add(sessionResource(ss))
				}
			}
		}
	}
	return out
}

// sparse applies ?fields[type]=a,b,fields.x to a resource's attributes.
func (c *apiCall) sparse(o obj) obj {
	typ, _ := o.get("type")
	want, ok := c.q["fields["+typ.(string)+"]"]
	if !ok {
		return o
	}
	keep := map[string]bool{}
	sub := map[string]bool{}
	for _, v := range want {
		for _, k := range strings.Split(v, ",") {
			k = strings.TrimSpace(k)
			if rest, isSub := strings.CutPrefix(k, "fields."); isSub {
				sub[rest] = true
			} else if k != "" {
				keep[k] = true
			}
		}
	}
	out := make(obj, 0, len(o))
	for _, e := range o {
		if e.k != "attributes" {
			out = append(out, e)
			continue
		}
		attrs := obj{}
		for _, a := range e.v.(obj) {
			switch {
			case keep[a.k]:
				attrs = append(attrs, a)
			case a.k == "fields" && len(sub) > 0:
				fs := obj{}
				for _, f := range a.v.(obj) {
					if sub[f.k] {
						fs = append(fs, f)
					}
				}
				attrs = append(attrs, kv{"fields", fs})
			}
		}
		out = append(out, kv{"attributes", attrs})
	}
	return out
}

// inquiryDoc builds {data, included?, meta?} for q.
func (s *Sandbox) inquiryDoc(c *apiCall, status int, q *inquiry, def []string, meta obj) apiResult {
	inc, bad := c.includes(c.shape.defaultIncludesFor(def))
	if bad != nil {
		return *bad
	}
	doc := obj{{"data", c.sparse(s.inquiryIn(q, c.shape))}}
	if len(inc) > 0 {
		objs := s.included(q, inc)
		for i := range objs {
			objs[i] = c.sparse(objs[i])
		}
		doc = append(doc, kv{"included", objs})
	}
	if len(meta) > 0 {
		doc = append(doc, kv{"meta", meta})
	}
	return apiResult{status, doc}
}
