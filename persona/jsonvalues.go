package persona

// Reading JSON values: attributes by key, timestamps, null, and decoding that keeps numbers.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"time"
)

func attrString(attrs map[string]json.RawMessage, key string) string {
	var s string
	if raw, ok := attrs[key]; ok && decodeJSON(raw, &s) == nil {
		return s
	}
	return ""
}

func attrStrings(attrs map[string]json.RawMessage, key string) []string {
	var vs []any
	if raw, ok := attrs[key]; !ok || decodeJSON(raw, &vs) != nil {
		return nil
	}
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if v != nil {
			out = append(out, valueString(v))
		}
	}
	return out
}

// attrTime parses an ISO 8601 timestamp; anything else (null, garbage) is nil.
func attrTime(attrs map[string]json.RawMessage, key string) *time.Time {
	return parseTime(attrString(attrs, key))
}

// earliestTime is before any date Persona sends; an earlier one (year 1, a zero time) is no date.
var earliestTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func parseTime(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Before(earliestTime) {
		return nil
	}
	return &t
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// decodeJSON decodes with json.Number so large numbers in fields survive.
func decodeJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after JSON value")
	}
	return nil
}
