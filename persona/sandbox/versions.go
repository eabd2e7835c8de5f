package sandbox

// Persona-Version and Key-Inflection: every answer (and webhook) is built in the 2023-01-05
// kebab shape and then turned into the shape asked for.

import (
	"slices"
	"strings"
)

// Versions are the Persona-Version values the sandbox speaks; DefaultVersion is its API key's
// own, used when a request sends none.
var Versions = []string{"2023-01-05", "2025-10-27", "2025-12-08"}

const DefaultVersion = "2023-01-05"

// Inflections are the Key-Inflection values Persona accepts.
var Inflections = []string{"kebab", "snake", "camel"}

// shape is the form an answer or a webhook is written in.
type shape struct {
	version    string // one of Versions
	inflection string // one of Inflections
}

var defaultShape = shape{DefaultVersion, "kebab"}

// fieldsVerbatim: from 2025-10-27 the keys inside fields keep their configured form
// (snake: name_first), top-level PII is gone and nothing is included unless asked for.
func (sh shape) fieldsVerbatim() bool { return sh.version >= "2025-10-27" }

// shapeOf reads the request's headers; a value Persona would refuse is a 400 in words.
func shapeOf(version, inflection string) (shape, *apiResult) {
	sh := defaultShape
	if v := strings.TrimSpace(version); v != "" {
		if !slices.Contains(Versions, v) {
			r := badRequest("Persona-Version " + quote(v) + " is not a valid API version; use one of " + strings.Join(Versions, ", "))
			return sh, &r
		}
		sh.version = v
	}
	if k := strings.ToLower(strings.TrimSpace(inflection)); k != "" {
		if !slices.Contains(Inflections, k) {
			r := badRequest("Key-Inflection " + quote(k) + " is not supported; use kebab, snake or camel")
			return sh, &r
		}
		sh.inflection = k
	}
	return sh, nil
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return `"` + s + `"`
}

// defaultIncludesFor is what an inquiry's retrieve includes unasked: nothing from 2025-10-27.
func (sh shape) defaultIncludesFor(def []string) []string {
	if sh.fieldsVerbatim() {
		return nil
	}
	return def
}

// inquiryIn is the inquiry resource in shape sh (before key inflection): from 2025-10-27
// without top-level PII and with fields under their configured snake keys.
func (s *Sandbox) inquiryIn(q *inquiry, sh shape) obj {
	o := s.inquiryResource(q)
	if !sh.fieldsVerbatim() {
		return o
	}
	for i, e := range o {
		if e.k != "attributes" {
			continue
		}
		attrs := obj{}
		for _, a := range e.v.(obj) {
			switch {
			case slices.Contains(piiAttributes, a.k):
			case a.k == "fields":
				fs := make(obj, 0, len(a.v.(obj)))
				for _, f := range a.v.(obj) {
					fs = append(fs, kv{configuredKey(f.k), f.v})
				}
				attrs = append(attrs, kv{"fields", fs})
			default:
				attrs = append(attrs, a)
			}
		}
		o[i] = kv{"attributes", attrs}
	}
	return o
}

// configuredKey is a field's key as a template configures it (snake case).
func configuredKey(k string) string { return strings.ReplaceAll(k, "-", "_") }

// inflect rewrites every object key of v in sh's inflection. Inside an inquiry's fields
// (verbatim keys) only from 2023-01-05 on are the keys inflected; values are never touched.
func inflect(v any, sh shape) any {
	if sh.inflection == "kebab" {
		return v
	}
	return inflectIn(v, sh, false)
}

func inflectIn(v any, sh shape, verbatim bool) any {
	switch x := v.(type) {
	case obj:
		out := make(obj, len(x))
		for i, e := range x {
			k := e.k
			if !verbatim {
				k = inflectKey(k, sh.inflection)
			}
			out[i] = kv{k, inflectIn(e.v, sh, e.k == "fields" && sh.fieldsVerbatim())}
		}
		return out
	case []obj:
		out := make([]obj, len(x))
		for i, o := range x {
			out[i] = inflectIn(o, sh, false).(obj)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = inflectIn(e, sh, false)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[inflectKey(k, sh.inflection)] = inflectIn(e, sh, false)
		}
		return out
	}
	return v
}

// inflectKey turns a kebab key into snake or camel form.
func inflectKey(k, inflection string) string {
	switch inflection {
	case "snake":
		return strings.ReplaceAll(k, "-", "_")
	case "camel":
		parts := strings.Split(k, "-")
		for i := 1; i < len(parts); i++ {
			if parts[i] != "" {
				parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
			}
		}
		return strings.Join(parts, "")
	}
	return k
}
