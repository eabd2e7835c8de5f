package views

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/linkdesk/linkdesk/model"
)

func render(t *testing.T, c templ.Component) string {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Sentences built with When show each time as a <time> the browser puts in the viewer's zone,
// with the words around it kept and escaped.
func TestLocalText(t *testing.T) {
	got := render(t, LocalText("Persona unreachable since "+When(time.Date(2026, 12, 7, 9, 5, 0, 0, time.UTC))+": <timeout>"))
	want := `Persona unreachable since <time datetime="2026-12-07T09:05:00Z" title="2026-12-07 09:05 UTC" data-local>2026-12-07 09:05 UTC</time>: &lt;timeout&gt;`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := render(t, LocalText("No pass yet.")); got != "No pass yet." {
		t.Errorf("words alone: %s", got)
	}
}

// The in-progress guard (hard to meet in a browser: two creates at once) says when the other
// create started as a local time, with its words spaced.
func TestGuardInProgressTime(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 5, 0, 0, time.UTC)
	got := render(t, guardInProgress(NewInquiry{Guard: &GuardView{Kind: model.GuardInProgress, ClaimedBy: "Ada", ClaimedAt: at, Existing: InquiryRow{ReferenceID: "usr_1"}}}))
	if !strings.Contains(got, `Ada started it at <time datetime="2026-12-07T09:05:00Z" title="2026-12-07 09:05 UTC" data-local>2026-12-07 09:05 UTC</time>. Try again`) {
		t.Errorf("in-progress guard: %s", got)
	}
}
