package db

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/model"
)

// signedIn opens a database with one user and one session of theirs, sid.
func signedIn(t *testing.T, path string) (*DB, int64) {
	t.Helper()
	ctx := context.Background()
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	id, err := d.CreateUser(ctx, User{Email: "ana@example.com", Name: "Ana", Role: model.Agent, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	addSession(t, d, "sid", id)
	return d, id
}

func addSession(t *testing.T, d *DB, sid string, userID int64) {
	t.Helper()
	tx, err := d.W.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := InsertSession(context.Background(), tx, sid, userID); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestSessionUserSeesEveryChange: whatever writes the users or sessions tables, through this
// package's functions or not (a cascade, a statement a future change adds), the next lookup
// answers from the tables as they now are, not from what it kept.
func TestSessionUserSeesEveryChange(t *testing.T) {
	ctx := context.Background()
	d, id := signedIn(t, filepath.Join(t.TempDir(), "s.db"))
	lookup := func() (*Session, *User, error) {
		t.Helper()
		s, u, err := d.SessionUser(ctx, "sid")
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		return s, u, err
	}
	if _, u, err := lookup(); err != nil || u.ID != id || u.Role != model.Agent {
		t.Fatalf("first lookup: %+v %v", u, err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := d.W.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE users SET role = 'viewer' WHERE id = ?`, id)
	if _, u, _ := lookup(); u.Role != model.Viewer {
		t.Fatalf("after the role changed: %+v", u)
	}
	exec(`UPDATE users SET disabled = 1 WHERE id = ?`, id)
	if _, u, _ := lookup(); !u.Disabled {
		t.Fatalf("after the account was disabled: %+v", u)
	}
	exec(`UPDATE sessions SET last_seen_at = 1`)
	if s, _, _ := lookup(); s.LastSeenAt.UnixMilli() != 1 {
		t.Fatalf("after the session was last seen long ago: %+v", s)
	}
	exec(`DELETE FROM users WHERE id = ?`, id) // the session goes with it (ON DELETE CASCADE)
	if _, _, err := lookup(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after the user was deleted: %v", err)
	}
}

// TestSessionUserFromAnotherProcess: a change another process makes to the file fires no hook
// here, so it is seen once the kept answer is sessionTTL old, and only then: a lookup within
// that time is answered from memory.
func TestSessionUserFromAnotherProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	d, id := signedIn(t, path)
	now := time.Now()
	d.sessions.now = func() time.Time { return now }
	if _, u, err := d.SessionUser(ctx, "sid"); err != nil || u.Disabled {
		t.Fatalf("first lookup: %+v %v", u, err)
	}
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.W.ExecContext(ctx, `UPDATE users SET disabled = 1 WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	now = now.Add(sessionTTL - time.Millisecond)
	if _, u, err := d.SessionUser(ctx, "sid"); err != nil || u.Disabled {
		t.Fatalf("within %v, the answer kept: %+v %v", sessionTTL, u, err)
	}
	now = now.Add(time.Millisecond)
	if _, u, err := d.SessionUser(ctx, "sid"); err != nil || !u.Disabled {
		t.Fatalf("after %v, the account disabled elsewhere: %+v %v", sessionTTL, u, err)
	}
}

// TestSessionUserAfterSignOut: once ending a session has returned, no lookup finds it, however
// many lookups ran, and kept their answers, while it was being ended.
func TestSessionUserAfterSignOut(t *testing.T) {
	ctx := context.Background()
	d, id := signedIn(t, filepath.Join(t.TempDir(), "s.db"))
	for i := range 100 {
		sid := fmt.Sprintf("sid-%d", i)
		addSession(t, d, sid, id)
		var ended atomic.Bool
		var found atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Go(func() {
				for {
					endedBefore := ended.Load()
					_, _, err := d.SessionUser(ctx, sid)
					switch {
					case err == nil && endedBefore:
						errs <- fmt.Errorf("%s found after it ended", sid)
						return
					case err == nil:
						found.Add(1)
					case errors.Is(err, ErrNotFound) && endedBefore:
						return
					case !errors.Is(err, ErrNotFound):
						errs <- err
						return
					}
				}
			})
		}
		for found.Load() < 8 { // the lookups have kept the session: ending it must drop that
			if len(errs) > 0 {
				break
			}
			runtime.Gosched()
		}
		if err := d.DeleteSession(ctx, sid); err != nil {
			t.Fatal(err)
		}
		ended.Store(true)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
}
