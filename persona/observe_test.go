package persona

import "testing"

func TestOpNameHidesIDs(t *testing.T) {
	for path, want := range map[string]string{
		"/inquiries": "GET /inquiries",
		"/inquiries/inq_2bTkLaHc5d9YsXbKXYw6Dbmj8ELf": "GET /inquiries/{id}",
		"/inquiries/inq_abc/resume":                   "GET /inquiries/{id}/resume",
		"/inquiry-templates/itmpl_abc":                "GET /inquiry-templates/{id}",
	} {
		if got := opName("GET", path); got != want {
			t.Errorf("opName(GET, %q) = %q, want %q", path, got, want)
		}
	}
}
