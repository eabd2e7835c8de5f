package staff

import (
	"errors"
	"strings"
	"testing"
)

func TestPasswordRules(t *testing.T) {
	for _, pw := range []string{"correct horse battery", "lantern quietly mosaic", "Zx9!q7Lm#2Rt"} {
		if err := CheckPasswordRules(pw); err != nil {
			t.Errorf("%q refused: %v", pw, err)
		}
	}
	for pw, why := range map[string]string{
		strings.Repeat(" ", 12):    "only spaces",
		"\t\t\t\t\t\t\t\t\t\t\t\t": "only spaces",
		"short":                    "at least 12",
		strings.Repeat("a", 73):    "at most 72",
		"winniethepooh":            "too common", // on the list as it is
		"password1234":             "too common", // a listed word with digits after it
		"!!Sunshine2024":           "too common",
		"passwordpassword":         "too common", // repeated
		"abcabcabcabc":             "too common",
		"123456789012":             "too common", // a run of digits
		"qwertyuiopas":             "too common", // a keyboard row
		"zyxwvutsrqpo":             "too common", // the alphabet backwards
		"aaaaaaaaaaaaaaa":          "too common",
	} {
		err := CheckPasswordRules(pw)
		var pe *PasswordError
		if !errors.As(err, &pe) || !strings.Contains(pe.Reason, why) {
			t.Errorf("%q: %v, want refused as %q", pw, err, why)
		}
	}
}
