package live

import "testing"

// An answer made from what a caller read before a change is not shared as that change's
// answer: the list stream once sent a row's old status for its new one (TestLiveStreams failed
// under load), because the version was read after the row.
func TestSharedKeyedByTheVersionReadFirst(t *testing.T) {
	h := New(Limits{})
	before := h.Version()
	h.Publish("inq_1") // the change lands after the caller read its row, before it rendered
	old, err := h.Shared(before, "row inq_1", func() ([]byte, error) { return []byte("pending"), nil })
	if err != nil || string(old) != "pending" {
		t.Fatalf("the late caller's own answer: %q %v", old, err)
	}
	now, err := h.Shared(h.Version(), "row inq_1", func() ([]byte, error) { return []byte("approved"), nil })
	if err != nil || string(now) != "approved" {
		t.Fatalf("the change's answer is %q (%v), want approved", now, err)
	}
	again, _ := h.Shared(h.Version(), "row inq_1", func() ([]byte, error) { return []byte("rendered twice"), nil })
	if string(again) != "approved" || h.SharedRuns() != 2 {
		t.Errorf("a second caller at the same version got %q after %d runs, want the shared answer", again, h.SharedRuns())
	}
}
