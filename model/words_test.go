package model

import "testing"

// Every status reads well as a label and after "is"; unknown ones as they came.
func TestStatusWords(t *testing.T) {
	for _, tc := range []struct {
		s            Status
		text, phrase string
	}{
		{NeedsReview, "Needs review", "waiting for review"},
		{Created, "Created", "not started yet"},
		{Pending, "Pending", "in progress"},
		{Approved, "Approved", "approved"},
		{"", "Unknown", "unknown"},
		{"on_hold", "on_hold", "on_hold"},
	} {
		if got := tc.s.Text(); got != tc.text {
			t.Errorf("%q.Text() = %q, want %q", tc.s, got, tc.text)
		}
		if got := tc.s.Phrase(); got != tc.phrase {
			t.Errorf("%q.Phrase() = %q, want %q", tc.s, got, tc.phrase)
		}
	}
}
