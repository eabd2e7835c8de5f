package casework

import (
	"testing"

	"github.com/linkdesk/linkdesk/model"
)

func TestSummaryWords(t *testing.T) {
	plan := []RowPlan{{OK: true}, {OK: true}, {Why: "approved"}, {OK: true}, {Why: "without email"}, {Why: "approved"}}
	if got, want := Summary(ActFreshLink, plan), "6 selected: 3 will get a fresh link, 3 cannot: 2 approved, 1 without email"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := Summary(ActExpire, plan[:2]), "2 selected: 2 will be expired"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRoleRules(t *testing.T) {
	for _, tc := range []struct {
		role         model.Role
		work, expire bool
	}{{model.Admin, true, true}, {model.Agent, true, false}, {model.Viewer, false, false}} {
		if MayWork(tc.role) != tc.work || MayExpire(tc.role) != tc.expire {
			t.Errorf("%s: work %t expire %t", tc.role, MayWork(tc.role), MayExpire(tc.role))
		}
	}
	if !MayExpire("reviewer") { // the role being added beside these
		t.Error("a reviewer may not expire")
	}
}
