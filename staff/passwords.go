package staff

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode"
)

// commonList is the list of common passwords shipped with the binary.
//
//go:embed common_passwords.txt
var commonList string

var common = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool, 4000)
	for _, l := range strings.Split(commonList, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[strings.ToLower(l)] = true
		}
	}
	return m
})

// runs are character sequences a password is refused as a piece of (abcdef…, qwerty…, 123…).
var runs = []string{"abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm", "qazwsxedcrfvtgbyhnujmikolp", "12345678901234567890"}

// CheckPasswordRules returns a *PasswordError when pw is too short, too long (bcrypt reads at
// most 72 bytes), only spaces, or common: on the shipped list, one of its words with digits or
// symbols around it or repeated, a run of the alphabet, keyboard or digits, or too few
// different characters. Else nil.
func CheckPasswordRules(pw string) error {
	if strings.TrimSpace(pw) == "" {
		return &PasswordError{"the password cannot be only spaces"}
	}
	if len(pw) < MinPasswordLength {
		return &PasswordError{fmt.Sprintf("the password must be at least %d characters", MinPasswordLength)}
	}
	if len(pw) > 72 {
		return &PasswordError{"the password must be at most 72 bytes"}
	}
	if isCommon(pw) {
		return &PasswordError{"this password is too common: it is on lists of passwords attackers try first. Choose another, such as a few unrelated words"}
	}
	return nil
}

func isCommon(pw string) bool {
	lower := strings.ToLower(strings.TrimSpace(pw))
	distinct := map[rune]bool{}
	for _, c := range lower {
		distinct[c] = true
	}
	if len(distinct) < 5 {
		return true
	}
	list := common()
	if list[lower] {
		return true
	}
	for _, r := range runs {
		if strings.Contains(r, lower) || strings.Contains(reverse(r), lower) {
			return true
		}
	}
	// The word inside: digits, spaces and symbols around it taken off ("Password2024!").
	core := strings.TrimFunc(lower, func(c rune) bool { return !unicode.IsLetter(c) })
	if core == "" {
		return false
	}
	if list[core] {
		return true
	}
	// A listed word repeated ("passwordpassword").
	for n := 2; n <= 4; n++ {
		if len(core)%n == 0 {
			part := core[:len(core)/n]
			if strings.Repeat(part, n) == core && (list[part] || len(part) < 4) {
				return true
			}
		}
	}
	return false
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}
