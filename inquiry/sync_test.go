package inquiry

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/persona"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// A list endpoint whose links.next never advances must not be followed forever: the pass stops
// after a bounded number of calls and says why in words.
func TestReconcileStopsOnRepeatingCursor(t *testing.T) {
	for _, full := range []bool{true, false} {
		e := newEnv(t)
		e.create(t, alexander("k-stuck"))
		e.sb.SetKnobs(sandbox.Knobs{StuckCursor: true})
		before := e.sb.Stats().Calls["GET /inquiries"]
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		res, err := e.svc.Reconcile(ctx, full, nil)
		cancel()
		calls := e.sb.Stats().Calls["GET /inquiries"] - before
		if !errors.Is(err, persona.ErrCursorLoop) {
			t.Fatalf("full=%v: err = %v after %d list calls, want a repeated-cursor error", full, err, calls)
		}
		if calls > 3 || res.Calls != int(calls) {
			t.Errorf("full=%v: %d list calls (pass counted %d), want at most 3", full, calls, res.Calls)
		}
		if st := e.svc.SyncStatus(); !strings.Contains(st.LastError, "repeated a page already read") {
			t.Errorf("full=%v: sync status error = %q", full, st.LastError)
		}
	}
}
