package persona

import (
	"encoding/json"
	"strings"
)

// Persona writes keys in the inflection a request or webhook asks for (kebab, snake or camel),
// and from 2025-10-27 keeps the keys inside an inquiry's fields in their configured form
// (typically snake: name_first). The client reads every key in kebab form, the one it asks for.

// kebabKey turns a snake or camel key into kebab form: name_first and nameFirst become
// name-first, addressStreet1 becomes address-street-1. A kebab key is returned as is.
func kebabKey(k string) string {
	camel := strings.IndexFunc(k, func(r rune) bool { return r >= 'A' && r <= 'Z' }) >= 0
	if !camel && !strings.Contains(k, "_") {
		return k
	}
	var b strings.Builder
	b.Grow(len(k) + 4)
	prev := rune(0)
	for _, r := range k {
		switch {
		case r == '_':
			r = '-'
		case r >= 'A' && r <= 'Z':
			if prev != 0 && prev != '-' && prev != '_' {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		case camel && r >= '0' && r <= '9' && prev != 0 && !(prev >= '0' && prev <= '9') && prev != '-' && prev != '_':
			b.WriteByte('-')
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// kebabKeys returns m with its keys in kebab form. Where two spellings of one key are both
// present, the kebab one wins.
func kebabKeys(m map[string]json.RawMessage) map[string]json.RawMessage {
	same := true
	for k := range m {
		if kebabKey(k) != k {
			same = false
			break
		}
	}
	if same {
		return m
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		kk := kebabKey(k)
		if _, taken := out[kk]; taken && kk != k {
			continue
		}
		out[kk] = v
	}
	return out
}

// fieldKeys writes field keys as the version expects them: kebab (name-first) up to
// 2023-01-05, where Key-Inflection applies inside fields too; from 2025-10-27 in the form
// Persona's templates configure them (snake: name_first), as fields' keys are then verbatim.
func (c *Client) fieldKeys(m map[string]string) map[string]string {
	if m == nil || !fieldsVerbatim(c.cfg.Version) {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ReplaceAll(kebabKey(k), "-", "_")] = v
	}
	return out
}
