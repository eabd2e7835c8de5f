package bulk

import (
	"strings"
	"testing"
)

func TestParseMessyFile(t *testing.T) {
	// A spreadsheet's export: BOM, semicolons, headers in other spellings, accents, a blank
	// line, a quoted field holding the separator, a column Linkdesk does not know.
	in := "\uFEFFReference ID; First Name ;Surname;E-mail address;Shoe size;Notes\r\n" +
		"usr_1;Zoë;Ångström;zoe@example.com;42;\"likes ; semicolons\"\r\n" +
		"\r\n" +
		";;;;;\r\n" +
		"usr_2;José;Núñez;jose@example.com;40;\r\n"
	f, err := Parse(strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Comma != ';' {
		t.Errorf("separator %q, want ;", f.Comma)
	}
	if len(f.Rows) != 2 {
		t.Fatalf("%d rows, want 2: %+v", len(f.Rows), f.Rows)
	}
	r := f.Rows[0]
	want := map[string]string{ColReference: "usr_1", "name-first": "Zoë", "name-last": "Ångström", "email-address": "zoe@example.com", ColNote: "likes ; semicolons"}
	for k, v := range want {
		if r.Values[k] != v {
			t.Errorf("row 1 %s = %q, want %q", k, r.Values[k], v)
		}
	}
	if r.Line != 2 || f.Rows[1].Line != 5 {
		t.Errorf("lines %d, %d; want 2, 5", r.Line, f.Rows[1].Line)
	}
	if len(f.Unknown) != 1 || f.Unknown[0] != "Shoe size" {
		t.Errorf("unknown headers %q, want [Shoe size]", f.Unknown)
	}
	// The mapping step: the unknown header assigned to a column.
	f, err = Parse(strings.NewReader("Kundennummer,email\nK-7,k7@example.com\n"), map[string]string{"Kundennummer": ColReference})
	if err != nil || f.Rows[0].Values[ColReference] != "K-7" || len(f.Unknown) != 0 {
		t.Errorf("mapped: %v %+v", err, f)
	}
}

// A header of unknown names only is read for the mapping step, not refused.
func TestParseUnknownHeadersOnly(t *testing.T) {
	f, err := Parse(strings.NewReader("Kundennummer,Courriel\nK-7,k7@example.com\n"), nil)
	if err != nil || f.Known() || len(f.Unknown) != 2 || len(f.Rows) != 1 {
		t.Fatalf("unknown headers: %v %+v", err, f)
	}
	f, err = Parse(strings.NewReader("Kundennummer,Courriel\nK-7,k7@example.com\n"), map[string]string{"Kundennummer": ColReference})
	if err != nil || !f.Known() || f.Rows[0].Values[ColReference] != "K-7" {
		t.Fatalf("mapped: %v %+v", err, f)
	}
}

func TestParseRefusesInWords(t *testing.T) {
	many := "reference_id\n" + strings.Repeat("x\n", MaxRows+1)
	for name, tc := range map[string]struct{ in, want string }{
		"empty":         {"", "the file is empty"},
		"blank head":    {",\n1,2\n", "no column of the header row"},
		"header only":   {"email\n", "no rows of people"},
		"too many rows": {many, "more than 10000 rows"},
		"too big":       {"email\n" + strings.Repeat("a", MaxFileBytes), "larger than 10 MB"},
		"not utf-8":     {"email\n\xff\xfe@x\n", "not UTF-8"},
		"bad quotes":    {"email,note\na@example.com,\"open\n", "line 2 of the file is not valid CSV"},
		"two emails":    {"email,E-Mail\na,b\n", "both hold the email"},
	} {
		_, err := Parse(strings.NewReader(tc.in), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}
