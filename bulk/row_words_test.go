package bulk

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/inquiry"
)

// A row's detail says why it failed or waits in words for staff: the console's own words as
// they are, Persona's outages explained, and never a database's raw error.
func TestRowWords(t *testing.T) {
	for _, c := range []struct {
		err        error
		want, hide string
	}{
		{worded("someone else is creating an inquiry for usr_1 right now"), "someone else is creating an inquiry for usr_1 right now", ""},
		{fmt.Errorf("create: %w", inquiry.ErrNotConfigured), "Persona is not configured", ""},
		{errors.New("db: create request: database is locked"), "an error in the console itself", "database is locked"},
	} {
		got := rowWords(c.err)
		if !strings.Contains(got, c.want) || c.hide != "" && strings.Contains(got, c.hide) {
			t.Errorf("rowWords(%v) = %q; want it to say %q and not %q", c.err, got, c.want, c.hide)
		}
	}
}
