// Package testkit holds the helpers the module's tests share: a real SQLite file per test, a
// staff account, polling an observable condition with a deadline, and capturing logs written
// from other goroutines. Package-specific fixtures stay in each package's own _test files.
//
// It imports db (which imports nothing of ours), so db's own tests cannot use it; everything
// else, the sandbox included, can.
package testkit

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/model"
	"golang.org/x/crypto/bcrypt"
)

// OpenDB opens (and migrates) a fresh SQLite file in the test's temporary folder; it is closed
// when the test ends.
func OpenDB(t testing.TB) *db.DB {
	t.Helper()
	return OpenDBAt(t, filepath.Join(t.TempDir(), "test.db"))
}

// OpenDBAt opens the SQLite file at path (a test that restarts on the same file opens it twice).
func OpenDBAt(t testing.TB, path string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// AddUser creates a staff account with a cheap hash (the cost is not what is under test); its
// name is the email's local part.
func AddUser(t testing.TB, d *db.DB, email string, role model.Role, password string) int64 {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	id, err := d.CreateUser(context.Background(), db.User{Email: email, Name: strings.Split(email, "@")[0], Role: role, PasswordHash: string(h)})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// pollEvery is how often Eventually looks again.
const pollEvery = 5 * time.Millisecond

// Eventually polls cond until it holds, failing the test if it does not within the time (a
// guard against hanging, not a timing assertion).
func Eventually(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(pollEvery)
	}
}

// WaitEmail polls until outbox email id is in state and returns it.
func WaitEmail(t testing.TB, d *db.DB, id int64, state string) db.OutboxEmail {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		e, err := d.GetEmail(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if e.State == state {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("email %d is %s (last error %q), want %s", id, e.State, e.LastError, state)
		}
		time.Sleep(pollEvery)
	}
}

// Context is a context that ends with the test or after 20 s, whichever comes first.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Discard is a logger that writes nowhere.
func Discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Logs is a log destination safe for writes from other goroutines (servers, workers).
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Logger returns a text logger writing to l.
func (l *Logs) Logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Lines returns the lines that contain substr.
func (l *Logs) Lines(substr string) []string {
	var out []string
	for _, line := range strings.Split(l.String(), "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}
