package inquiry

import "testing"

func TestCountryCode(t *testing.T) {
	for in, want := range map[string]string{
		"Germany": "DE", "germany": "DE", " DE ": "DE", "de": "DE", "DEU": "DE", "Georgia": "GE", "GE": "GE",
		"Côte d'Ivoire": "CI", "Cote d'Ivoire": "CI", "United Kingdom": "GB", "UK": "GB", "USA": "US",
		"United States": "US", "Åland Islands": "AX", "Czech Republic": "CZ", "Czechia": "CZ", "South Korea": "KR",
	} {
		if got, ok := CountryCode(in); !ok || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"Narnia", "XX", "G", "Germ"} {
		if got, ok := CountryCode(in); ok {
			t.Errorf("%q read as %q", in, got)
		}
	}
	if CountryName("de") != "Germany" || CountryName("XX") != "XX" || len(Countries()) != 249 {
		t.Errorf("names: %q %q %d", CountryName("de"), CountryName("XX"), len(Countries()))
	}
}

// The form and bulk send share the one rule: a country typed by name is stored as its code.
func TestValidateCountryByName(t *testing.T) {
	in := CreateInput{Fields: map[string]string{"address-country-code": "Germany"}}
	if errs := Validate(&in, "", false); len(errs) != 0 || in.Fields["address-country-code"] != "DE" {
		t.Errorf("Germany: %v %q", errs, in.Fields["address-country-code"])
	}
	in = CreateInput{Fields: map[string]string{"address-country-code": "Germ"}}
	if errs := Validate(&in, "", false); errs["address-country-code"] == "" {
		t.Errorf("Germ accepted as %q", in.Fields["address-country-code"])
	}
}
