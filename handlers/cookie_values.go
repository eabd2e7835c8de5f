package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gorilla/securecookie"
)

// sessionSerializer stores a session's values as tagged JSON, so they decode as the types they
// were saved as. It replaces gob, which compiled the cookie's types afresh on every request (a
// fifth of a cached page's time). Cookies set before it came (gob) still decode.
type sessionSerializer struct{}

// jsonMark starts every value written here; a gob stream never starts with it.
var jsonMark = []byte("j1")

// sessionValue is one value a session holds: text, a flag, a number, or flash messages.
type sessionValue struct {
	S *string `json:"s,omitempty"`
	B *bool   `json:"b,omitempty"`
	I *int64  `json:"i,omitempty"`
	F []any   `json:"f,omitempty"`
}

func (sessionSerializer) Serialize(src any) ([]byte, error) {
	values, ok := src.(map[any]any)
	if !ok {
		return nil, fmt.Errorf("session values: %T", src)
	}
	out := make(map[string]sessionValue, len(values))
	for k, v := range values {
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("session key %v: %T", k, k)
		}
		var sv sessionValue
		switch v := v.(type) {
		case string:
			sv.S = &v
		case bool:
			sv.B = &v
		case int64:
			sv.I = &v
		case []any: // flashes (sessions.AddFlash), all of them text
			for _, f := range v {
				if _, ok := f.(string); !ok {
					return nil, fmt.Errorf("session flash: %T", f)
				}
			}
			sv.F = v
		default:
			return nil, fmt.Errorf("session value %q: %T", key, v)
		}
		out[key] = sv
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return append(bytes.Clone(jsonMark), b...), nil
}

func (sessionSerializer) Deserialize(src []byte, dst any) error {
	values, ok := dst.(*map[any]any)
	if !ok {
		return fmt.Errorf("session values: %T", dst)
	}
	b, ok := bytes.CutPrefix(src, jsonMark)
	if !ok {
		return securecookie.GobEncoder{}.Deserialize(src, dst)
	}
	var in map[string]sessionValue
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	if *values == nil {
		*values = make(map[any]any, len(in))
	}
	for k, v := range in {
		switch {
		case v.S != nil:
			(*values)[k] = *v.S
		case v.B != nil:
			(*values)[k] = *v.B
		case v.I != nil:
			(*values)[k] = *v.I
		case v.F != nil:
			(*values)[k] = v.F
		}
	}
	return nil
}
