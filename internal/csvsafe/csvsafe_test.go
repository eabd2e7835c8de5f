package csvsafe

import "testing"

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(1)": "'=HYPERLINK(1)",
		"+1":            "'+1",
		"-2+3":          "'-2+3",
		"@SUM(A1)":      "'@SUM(A1)",
		"\t=1":          "'\t=1",
		"\r=1":          "'\r=1",
		"Ada":           "Ada",
		"":              "",
		"María = 1":     "María = 1",
		BOM + "id":      BOM + "id",
	} {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Row("1", "=x", "ok"); got[0] != "1" || got[1] != "'=x" || got[2] != "ok" {
		t.Errorf("Row = %q", got)
	}
}
