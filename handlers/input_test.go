package handlers

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// "Ann\r\nBcc: …" and NUL were accepted as a name or reference ID from the form: refused in
// words, with the typed values kept, and nothing created.
func TestFormRefusesControlCharacters(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	e.addUser("agent@example.com", db.RoleAgent, pw)
	c := e.signIn("agent@example.com", pw)
	for field, value := range map[string]string{"name-first": "Ann\r\nBcc: eve@example.com", "reference_id": "usr\x00", "name-last": "Doe\x1b[2J"} {
		form := alexanderForm("k-" + field)
		form.Set(field, value)
		res, body := e.do(c, "POST", "/inquiries", form)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "control character") {
			t.Errorf("%s=%q: %d %.300s", field, value, res.StatusCode, body)
		}
	}
	if n := e.sb.Stats().InquiriesCreated; n != 0 {
		t.Errorf("%d inquiries created", n)
	}
}

func utf16LE(s string) string {
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(s)) {
		b.WriteByte(byte(u))
		b.WriteByte(byte(u >> 8))
	}
	return b.String()
}

// A UTF-16 file without a byte-order mark made an inquiry whose reference ID was one NUL; a
// CR-only file (old Mac line ends) was refused for the wrong reason; NUL and line breaks in a
// row's fields were accepted.
func TestBulkFileEncodingsAndControlCharacters(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	e.addUser("ann@example.com", "agent", "pw-ann-123456")
	c := e.signIn("ann@example.com", "pw-ann-123456")
	fields := map[string]string{"template_id": sandbox.TemplateKYC}
	for name, tc := range map[string]struct{ file, want string }{
		"utf-16 ASCII, no BOM": {utf16LE("reference_id,first_name\r\nusr_1,Ann\r\n"), "<strong>1 ready</strong>"},
		"utf-16 without BOM":   {utf16LE("reference_id,first_name\r\nusr_1,Zoë\r\nusr_2,José\r\n"), "<strong>2 ready</strong>"},
		"utf-16 with BOM":      {utf16LE("\uFEFFreference_id,first_name\r\nusr_1,Zoë\r\n"), "<strong>1 ready</strong>"},
		"CR-only lines":        {"reference_id,first_name\rusr_1,Ann\rusr_2,Bob\r", "<strong>2 ready</strong>"},
		"control characters":   {"reference_id,first_name\nusr_1,\"Ann\r\nBcc: x\"\nusr\x002,Bob\nusr_3,Cy\n", "<strong>1 ready, 2 invalid</strong>"},
	} {
		res, body := e.postCSV(c, "/bulk/check", "f.csv", tc.file, fields)
		if res.StatusCode != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, want %q: %.400s", name, res.StatusCode, tc.want, body)
		}
	}
	_, body := e.postCSV(c, "/bulk/check", "f.csv", "reference_id,first_name\nusr_1,\"Ann\r\nBcc: x\"\n", fields)
	if !strings.Contains(body, "control character") {
		t.Errorf("the invalid row's reason: %.400s", body)
	}
}
