package handlers

import (
	"reflect"
	"testing"

	"github.com/gorilla/securecookie"
)

// Session values come back as the types they were saved as, and a cookie written before the
// JSON serializer (gob) still opens its session.
func TestSessionSerializer(t *testing.T) {
	hash, block := securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32)
	values := map[any]any{"sid": "abc", "sso": true, "at": int64(1765000000), "_flash": []any{"Saved.", "Sent."}, "empty": ""}

	now := securecookie.New(hash, block).SetSerializer(sessionSerializer{})
	enc, err := now.Encode("linkdesk", values)
	if err != nil {
		t.Fatal(err)
	}
	got := map[any]any{}
	if err := now.Decode("linkdesk", enc, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, values) {
		t.Fatalf("decoded %#v, want %#v", got, values)
	}

	old, err := securecookie.New(hash, block).Encode("linkdesk", values) // gob, as before
	if err != nil {
		t.Fatal(err)
	}
	got = map[any]any{}
	if err := now.Decode("linkdesk", old, &got); err != nil {
		t.Fatalf("a gob cookie: %v", err)
	}
	if !reflect.DeepEqual(got, values) {
		t.Fatalf("gob cookie decoded %#v, want %#v", got, values)
	}

	if _, err := now.Encode("linkdesk", map[any]any{"n": 3.5}); err == nil {
		t.Fatal("a float was saved: nothing in a session is one, so it must be a mistake")
	}
}
