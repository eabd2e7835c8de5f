package sandbox

// Reading requests: the JSON body, its sections and typed values, and inquiry fields.

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
)

func parseBody(body []byte) (map[string]any, *apiResult) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil || d.More() {
		r := badRequest("The request body is not valid JSON")
		return nil, &r
	}
	m, ok := v.(map[string]any)
	if !ok {
		r := badRequest("The request body must be a JSON object")
		return nil, &r
	}
	return m, nil
}

var camelBoundary = regexp.MustCompile(`([a-z0-9])([A-Z])|([a-zA-Z])([0-9]+)`)

// kebab normalizes a request key written in snake_case, camelCase or
// kebab-case (Persona accepts all three) to kebab-case.
func kebab(k string) string {
	if strings.ContainsAny(k, "_") {
		return strings.ReplaceAll(k, "_", "-")
	}
	if strings.IndexFunc(k, unicode.IsUpper) >= 0 {
		k = camelBoundary.ReplaceAllString(k, "$1$3-$2$4")
		return strings.ToLower(k)
	}
	return k
}

func normalize(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[kebab(k)] = v
	}
	return out
}

// section returns doc[key] as an object with kebab-case keys.
func section(doc map[string]any, key string) (map[string]any, *apiResult) {
	v, ok := doc[key]
	if !ok || v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		r := badRequest(key + " must be an object")
		return nil, &r
	}
	return normalize(m), nil
}

func (c *apiCall) dataAttributes() (map[string]any, *apiResult) {
	data, bad := section(c.doc, "data")
	if bad != nil {
		return nil, bad
	}
	a, ok := data["attributes"]
	if !ok || a == nil {
		return map[string]any{}, nil
	}
	m, ok := a.(map[string]any)
	if !ok {
		r := badRequest("data.attributes must be an object")
		return nil, &r
	}
	return normalize(m), nil
}

func (c *apiCall) meta() (map[string]any, *apiResult) { return section(c.doc, "meta") }

// str reads an optional string; name is used in the error's details.
func str(m map[string]any, key, name string) (string, bool, *apiResult) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", false, nil
	}
	sv, isStr := v.(string)
	if !isStr {
		r := badRequest(name + " must be a string")
		return "", true, &r
	}
	return sv, true, nil
}

func boolean(m map[string]any, key, name string, def bool) (bool, *apiResult) {
	v, ok := m[key]
	if !ok || v == nil {
		return def, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		r := badRequest(name + " must be a boolean")
		return def, &r
	}
	return b, nil
}

func seconds(m map[string]any, key, name string) (time.Duration, *apiResult) {
	v, ok := m[key]
	if !ok || v == nil {
		return 0, nil
	}
	n, isNum := v.(json.Number)
	i, err := n.Int64()
	if !isNum || err != nil || i <= 0 {
		r := badRequest(name + " must be a positive integer")
		return 0, &r
	}
	return time.Duration(i) * time.Second, nil
}

func stringList(v any, name string) ([]string, *apiResult) {
	if v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		r := badRequest(name + " must be an array")
		return nil, &r
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		sv, ok := e.(string)
		if !ok {
			r := badRequest(name + " must be an array of strings")
			return nil, &r
		}
		out = append(out, sv)
	}
	return out, nil
}

var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// parseFields reads plain field values ({key: value}; a {type, value} wrapper
// is tolerated) and checks the standard fields' types and formats.
func parseFields(raw map[string]any, pointer string) (map[string]field, []string, *apiResult) {
	out := map[string]field{}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	order := make([]string, 0, len(keys))
	for _, rawKey := range keys {
		v := raw[rawKey]
		k := kebab(rawKey)
		if m, ok := v.(map[string]any); ok {
			if inner, has := m["value"]; has && len(m) <= 2 {
				if _, typed := m["type"]; typed || len(m) == 1 {
					v = inner
				}
			}
		}
		f, bad := fieldValue(k, v, pointer+"/"+k)
		if bad != nil {
			return nil, nil, bad
		}
		out[k] = f
		order = append(order, k)
	}
	return out, order, nil
}

// attributeFields reads an inquiry's fields from data.attributes.fields and
// from top-level PII attributes (accepted before 2025-10-27, ignored since).
func attributeFields(attrs map[string]any, sh shape) (map[string]field, []string, *apiResult) {
	raw := map[string]any{}
	for _, f := range standardFields {
		if v, ok := attrs[f.key]; ok && !sh.fieldsVerbatim() { // ignored from 2025-10-27
			raw[f.key] = v
		}
	}
	if fv, ok := attrs["fields"]; ok && fv != nil {
		fm, isObj := fv.(map[string]any)
		if !isObj {
			r := badRequest("data.attributes.fields must be an object")
			return nil, nil, &r
		}
		for k, v := range fm {
			raw[k] = v
		}
	}
	return parseFields(raw, "/data/attributes/fields")
}

func fieldValue(k string, v any, pointer string) (field, *apiResult) {
	if typ, std := isStandardField(k); std {
		var sv string
		switch x := v.(type) {
		case nil:
			return field{Type: typ}, nil
		case string:
			sv = strings.TrimSpace(x)
		case json.Number:
			sv = x.String()
		default:
			r := invalid("fields."+k+" must be a string", pointer)
			return field{}, &r
		}
		if sv == "" {
			return field{Type: typ}, nil
		}
		switch k {
		case "birthdate":
			if _, err := time.Parse("2006-01-02", sv); err != nil || !datePattern.MatchString(sv) {
				r := invalid("fields.birthdate must be a date in the format YYYY-MM-DD", pointer)
				return field{}, &r
			}
		case "address-country-code":
			if len(sv) != 2 || !isLetters(sv) {
				r := invalid("fields.address-country-code must be an ISO 3166-1 alpha-2 country code", pointer)
				return field{}, &r
			}
			sv = strings.ToUpper(sv)
		}
		return field{Type: typ, Value: sv}, nil
	}
	switch x := v.(type) {
	case nil:
		return field{Type: "string"}, nil
	case string:
		return field{Type: "string", Value: x}, nil
	case bool:
		return field{Type: "boolean", Value: x}, nil
	case json.Number:
		return field{Type: "number", Value: x}, nil
	case []any:
		return field{Type: "array", Value: x}, nil
	case map[string]any:
		return field{Type: "hash", Value: x}, nil
	}
	return field{Type: "string", Value: v}, nil
}

func isLetters(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func dedupe(in []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, v := range in {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// safeRedirect accepts absolute URIs (custom schemes included, as Persona
// does) but not script-bearing schemes.
func safeRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "javascript", "data", "vbscript", "file":
		return false
	}
	return true
}
