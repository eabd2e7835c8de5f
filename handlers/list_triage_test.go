package handlers

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/persona/sandbox"
)

// insertRow puts one cached inquiry straight into the table, as a webhook or sync would leave it.
func insertRow(t *testing.T, e *testEnv, id, ref, status string, expires time.Time, createdBy int64) {
	t.Helper()
	now := time.Now().UnixMilli()
	var by any
	if createdBy != 0 {
		by = createdBy
	}
	_, err := e.db.W.Exec(`INSERT INTO inquiries (id, reference_id, status, name, email, template_id, created_at,
		updated_at, synced_at, expires_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, ref, status, "Ana "+ref, strings.ToLower(ref)+"@example.com", "itmpl_kyc", now, now, now, expires.UnixMilli(), by)
	noErr(t, err)
}

// TestListTriage: the quick filters a team uses daily, "Expiring soon" as a triage window of a
// few hours (configurable), status chosen by checkboxes, the folded filters' summary following
// the filter, and each row's button named for its row.
func TestListTriage(t *testing.T) {
	e := newTestEnv(t)
	me := e.addUser("agent@example.com", db.RoleAgent, pw)
	c := e.signIn("agent@example.com", pw)
	now := time.Now()
	insertRow(t, e, "inq_soon", "usr_SOON", "pending", now.Add(2*time.Hour), me)
	insertRow(t, e, "inq_later", "usr_LATER", "created", now.Add(20*time.Hour), 0)
	insertRow(t, e, "inq_review", "usr_REVIEW", "needs_review", time.Time{}, 0)

	_, page := e.do(c, "GET", "/inquiries", nil)
	mustContain(t, "list page", page,
		// Quick filters.
		fmt.Sprintf(`<a href="/inquiries?created_by=%d" title="Inquiries you created">`, me), ">Created by me</a>",
		`<a href="/inquiries?status=needs_review"`, ">Needs review</a>",
		`<a href="/inquiries?status=pending"`, ">Started, not finished</a>",
		`<a href="/inquiries?expiring=1" title="Open, and the link expires within 4 h">Expiring soon 1</a>`,
		`title="Inquiries assigned to you">Assigned to me 0</a>`,
		// Status by checkboxes, not a multi-select; the filters folded.
		`<fieldset class="status-chips"><legend>Status</legend>`, `<input type="checkbox" name="status" value="needs_review">`,
		`<details id="filter-panel"`, "Link expires within 4 h",
		// Each row's button is named for its row.
		`aria-label="Refresh usr_SOON"`, `aria-label="Refresh usr_LATER"`, `aria-label="Refresh usr_REVIEW"`)
	if strings.Contains(page, "<select id=\"f-status\"") || strings.Contains(page, ">Refresh status<") {
		t.Error("the list still has the multi-select or identically named Refresh buttons")
	}
	// Times carry UTC for the browser to show locally.
	if !regexp.MustCompile(`<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" title="[^"]+ UTC" data-local>`).MatchString(page) {
		t.Error("created times are not <time datetime=... data-local> elements")
	}

	// "Expiring soon" is the next few hours, not every open inquiry of the day.
	_, frag := e.hxGet(c, "/inquiries?expiring=1")
	if ids := rowIDs(frag); strings.Join(ids, ",") != "inq_soon" {
		t.Errorf("expiring soon lists %v, want only inq_soon (2 h left; inq_later has 20 h)", ids)
	}
	mustContain(t, "expiring summary", frag, `hx-swap-oob="outerHTML:#filter-summary"`, " · Link expires within 4 h", `<a href="/inquiries">Clear filters</a>`)
	// The window is configurable (--expiring-window). Set on a running server only here, so
	// the page cache, which does not key on it, is turned off.
	e.srv.listCache.noPage = true
	e.srv.cfg.ExpiringWindow = 24 * time.Hour
	_, frag = e.hxGet(c, "/inquiries?expiring=1")
	if ids := rowIDs(frag); len(ids) != 2 {
		t.Errorf("a 24 h window lists %v, want inq_soon and inq_later", ids)
	}
	e.srv.cfg.ExpiringWindow = 0

	for _, tc := range []struct{ query, want string }{
		{fmt.Sprintf("created_by=%d", me), "inq_soon"},
		{"status=needs_review", "inq_review"},
		{"status=pending", "inq_soon"},
	} {
		_, frag := e.hxGet(c, "/inquiries?"+tc.query)
		if ids := rowIDs(frag); strings.Join(ids, ",") != tc.want {
			t.Errorf("%s lists %v, want %s", tc.query, ids, tc.want)
		}
	}
	// The quick filter in force is marked, and the summary names the filter in words.
	_, page = e.do(c, "GET", "/inquiries?status=created&status=pending&template=itmpl_kyc", nil)
	mustContain(t, "summary", page, " · Status: Created, Pending", " · Template: itmpl_kyc",
		`<input type="checkbox" name="status" value="created" checked>`, `<input type="checkbox" name="status" value="pending" checked>`)
	_, page = e.do(c, "GET", "/inquiries?status=needs_review", nil)
	mustContain(t, "current quick filter", page, `<a href="/inquiries?status=needs_review" title="Persona asks a person to review these" aria-current="page">`)
}

// TestListCountsFollowLiveChanges: an open list's per-status counts change when an inquiry does,
// like its rows, without a reload.
func TestListCountsFollowLiveChanges(t *testing.T) {
	e := newSandboxEnv(t, sandbox.Knobs{}, nil)
	ctx := context.Background()
	e.addUser("viewer@example.com", db.RoleViewer, pw)
	c := e.signIn("viewer@example.com", pw)
	res, err := e.inq.Create(ctx, agentActor, createInput("count-1", false))
	noErr(t, err)
	_, counts := e.hxGet(c, "/inquiries/counts")
	mustContain(t, "counts before", counts, `aria-label="Status counts"`, `Created <a href="/inquiries?status=created" title="Show only Created">1</a>`)

	ch, stop := e.openSSE(c, fmt.Sprintf("/events/inquiries?since=%d", time.Now().UnixMilli()))
	defer stop()
	noErr(t, e.sb.Complete(res.Inquiry.ID, true))
	// The last counts sent after the change settles show it approved and no longer created.
	ev := waitEvent(t, ch, "counts", `Approved <a href="/inquiries?status=approved" title="Show only Approved">1</a>`)
	if strings.Contains(ev.data, "Created <a") {
		t.Errorf("counts still show it created: %s", ev.data)
	}
	if !strings.Contains(ev.data, `<nav id="list-counts" aria-label="Status counts"`) {
		t.Errorf("the counts event is not the counts fragment: %s", ev.data)
	}
}
