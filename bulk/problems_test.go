package bulk

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/linkdesk/linkdesk/inquiry"
)

// The problem rows' download keeps every cell that came from the file from running as a
// formula, a leading tab or carriage return included (the list's export has the same rule).
func TestWriteProblemsNeutralisesFormulas(t *testing.T) {
	c := &Checked{Rows: []Row{
		{Line: 2, Input: inquiry.CreateInput{ReferenceID: "=HYPERLINK(1)"}, Class: Invalid, Problem: "-1 day"},
		{Line: 3, Input: inquiry.CreateInput{ReferenceID: "\t=1"}, Class: Invalid, Problem: "@x"},
		{Line: 4, Input: inquiry.CreateInput{ReferenceID: "usr_ok"}, Class: Ready},
	}}
	var b bytes.Buffer
	if err := c.WriteProblems(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[1][1] != "'=HYPERLINK(1)" || recs[1][3] != "'-1 day" || recs[2][1] != "'\t=1" || recs[2][3] != "'@x" {
		t.Fatalf("problem rows: %q", recs)
	}
}
