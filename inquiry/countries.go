package inquiry

import (
	"strings"
	"unicode"
)

// Country is one country of the table: its ISO 3166-1 alpha-2 code and English name.
type Country struct{ Code, Name string }

// Countries lists every country by English name, for a picker.
func Countries() []Country { return countries }

var countryByCode = func() map[string]string {
	m := make(map[string]string, len(countries))
	for _, c := range countries {
		m[c.Code] = c.Name
	}
	return m
}()

// CountryCode reads a country as staff type it, on the form or in a bulk file: a two-letter
// ISO code in any case ("de"), a three-letter one ("DEU") or an English name ("Germany",
// "Côte d'Ivoire", "Cote d'Ivoire", "UK"). It is the one rule both paths use; ok is false
// for anything else.
func CountryCode(s string) (code string, ok bool) {
	s = strings.TrimSpace(s)
	if up := strings.ToUpper(s); len(up) == 2 && countryByCode[up] != "" {
		return up, true
	}
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	code, ok = countryAliases[b.String()]
	return code, ok
}

// CountryName is the English name of an ISO code ("DE" → "Germany"), or the code itself when
// it is not one.
func CountryName(code string) string {
	if n := countryByCode[strings.ToUpper(code)]; n != "" {
		return n
	}
	return code
}
