package handlers

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/linkdesk/linkdesk/db"
)

// refuseAudit makes every later audit insert fail, the way a full disk or a broken audit table
// would: the change it belongs to must then not happen either.
func refuseAudit(t *testing.T, d *db.DB) {
	t.Helper()
	if _, err := d.W.ExecContext(context.Background(),
		`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log refused'); END`); err != nil {
		t.Fatal(err)
	}
}

// TestStaffChangeAndAuditAreOneTransaction: adding or changing a staff account and its audit
// entry are written together or not at all.
func TestStaffChangeAndAuditAreOneTransaction(t *testing.T) {
	ctx := context.Background()
	t.Run("add", func(t *testing.T) {
		e := newTestEnv(t)
		e.addUser("root@example.com", db.RoleAdmin, pw)
		admin := e.signIn("root@example.com", pw)
		refuseAudit(t, e.db)
		res, _ := e.do(admin, "POST", "/staff", url.Values{"name": {"Bo"}, "email": {"bo@example.com"}, "role": {"agent"}})
		if res.StatusCode != http.StatusInternalServerError {
			t.Errorf("invite with the audit log refusing: status %d, want 500", res.StatusCode)
		}
		if invs, err := e.db.OpenInvitations(ctx); err != nil || len(invs) != 0 {
			t.Errorf("the invitation was stored without its audit entry: %+v, %v", invs, err)
		}
		if emails, err := e.db.ListEmails(ctx, db.OutboxFilter{}); err != nil || len(emails) != 0 {
			t.Errorf("the invitation was emailed without its audit entry: %d, %v", len(emails), err)
		}
	})
	t.Run("update", func(t *testing.T) {
		e := newTestEnv(t)
		e.addUser("root@example.com", db.RoleAdmin, pw)
		id := e.addUser("bo@example.com", db.RoleAgent, pw)
		admin := e.signIn("root@example.com", pw)
		refuseAudit(t, e.db)
		res, _ := e.do(admin, "POST", "/staff/"+itoa(id), url.Values{"role": {"viewer"}})
		if res.StatusCode != http.StatusInternalServerError {
			t.Errorf("update with the audit log refusing: status %d, want 500", res.StatusCode)
		}
		if u, err := e.db.UserByID(ctx, id); err != nil || u.Role != db.RoleAgent {
			t.Errorf("the role changed without its audit entry: %+v, %v", u, err)
		}
	})
	t.Run("setup", func(t *testing.T) {
		e := newTestEnv(t)
		tok := e.setupToken()
		refuseAudit(t, e.db)
		res, _ := e.do(e.client(), "POST", "/setup", url.Values{"token": {tok}, "name": {"Ada"}, "email": {"ada@example.com"}, "password": {pw}})
		if res.StatusCode != http.StatusInternalServerError {
			t.Errorf("setup with the audit log refusing: status %d, want 500", res.StatusCode)
		}
		if n, _ := e.db.UserCount(ctx); n != 0 {
			t.Errorf("the first admin was created without its audit entry (%d accounts)", n)
		}
		// Nothing happened, so the same link still works once the audit log takes entries again.
		if _, err := e.db.W.ExecContext(ctx, `DROP TRIGGER refuse_audit`); err != nil {
			t.Fatal(err)
		}
		if res, _ := e.do(e.client(), "POST", "/setup", url.Values{"token": {tok}, "name": {"Ada"}, "email": {"ada@example.com"}, "password": {pw}}); res.StatusCode != http.StatusSeeOther {
			t.Errorf("setup again: status %d, want 303", res.StatusCode)
		}
	})
}

func (e *testEnv) setupToken() string {
	e.t.Helper()
	tok, err := e.srv.staff.SetupToken(context.Background())
	if err != nil || tok == "" {
		e.t.Fatalf("setup token %q: %v", tok, err)
	}
	return tok
}
