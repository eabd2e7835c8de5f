package model

import (
	"testing"
	"time"
)

func TestNewer(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	later := t0.Add(time.Second)
	for name, c := range map[string]struct {
		v, than Version
		want    bool
	}{
		"later time wins":                  {Version{later, Created}, Version{t0, Approved}, true},
		"earlier time loses":               {Version{t0, Approved}, Version{later, Created}, false},
		"tie: later stage wins":            {Version{t0, Approved}, Version{t0, Completed}, true},
		"tie: earlier stage loses":         {Version{t0, Completed}, Version{t0, Approved}, false},
		"tie: same stage is nothing new":   {Version{t0, Pending}, Version{t0, Pending}, false},
		"tie: same stage, other status":    {Version{t0, Failed}, Version{t0, Expired}, false},
		"tie: unknown loses to known":      {Version{t0, "paused"}, Version{t0, Created}, false},
		"tie: known beats unknown":         {Version{t0, Created}, Version{t0, "paused"}, true},
		"sub-millisecond is the same time": {Version{t0.Add(time.Microsecond), Created}, Version{t0, Created}, false},
		"one millisecond later is newer":   {Version{t0.Add(time.Millisecond), Created}, Version{t0, Pending}, true},
	} {
		if got := c.v.Newer(c.than); got != c.want {
			t.Errorf("%s: %v.Newer(%v) = %v, want %v", name, c.v, c.than, got, c.want)
		}
	}
}

func TestStatusPredicates(t *testing.T) {
	type row struct{ final, mayChange, work, linkable, remindable bool }
	for s, want := range map[Status]row{
		Created:     {false, true, true, true, true},
		Pending:     {false, true, true, true, true},
		Completed:   {false, true, false, false, false},
		NeedsReview: {false, true, false, false, false},
		Approved:    {true, false, false, false, false},
		Declined:    {true, false, false, false, false},
		Failed:      {true, false, false, false, false},
		Expired:     {true, false, false, true, false},
		"paused":    {false, true, false, false, false}, // unknown: kept, and Persona may change it
	} {
		got := row{s.Final(), s.MayChange(), s.PersonHasWork(), s.Linkable(), s.Remindable()}
		if got != want {
			t.Errorf("%s: got %+v, want %+v", s, got, want)
		}
	}
	for _, s := range PersonWorkStatuses {
		if !s.PersonHasWork() {
			t.Errorf("PersonWorkStatuses lists %s", s)
		}
	}
}

func TestLinkFor(t *testing.T) {
	for s, want := range map[Status]LinkKind{
		Created: LinkInquiry, Pending: LinkOneTime, Expired: LinkResumeOneTime,
		Completed: LinkNone, NeedsReview: LinkNone, Approved: LinkNone, Declined: LinkNone, Failed: LinkNone, "": LinkNone,
	} {
		if got := LinkFor(s); got != want {
			t.Errorf("LinkFor(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range Roles {
		if got, ok := ParseRole(string(r)); !ok || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, ok)
		}
	}
	for _, s := range []string{"", "Admin", "owner", " admin"} {
		if _, ok := ParseRole(s); ok {
			t.Errorf("ParseRole(%q) accepted", s)
		}
	}
}
