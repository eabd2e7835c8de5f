package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"golang.org/x/crypto/bcrypt"
)

// testEnv is the real route table over a real SQLite file.
type testEnv struct {
	t   *testing.T
	db  *db.DB
	srv *Server
	ts  *httptest.Server
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ts := httptest.NewUnstartedServer(nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := New(ctx, Config{BaseURL: "http://" + ts.Listener.Addr().String()}, d, inquiry.New(d, inquiry.Settings{}, log), log)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return &testEnv{t: t, db: d, srv: srv, ts: ts}
}

// addUser creates a staff account with a cheap hash (the cost is not what is under test).
func (e *testEnv) addUser(email, role, password string) int64 {
	e.t.Helper()
	h, _ := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	id, err := e.db.CreateUser(context.Background(), db.User{Email: email, Name: strings.Split(email, "@")[0], Role: role, PasswordHash: string(h)})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// client is a browser-like client: cookies kept, redirects not followed, same-origin headers.
func (e *testEnv) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *testEnv) do(c *http.Client, method, path string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, e.ts.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// signIn returns a client signed in as email.
func (e *testEnv) signIn(email, password string) *http.Client {
	e.t.Helper()
	c := e.client()
	res, body := e.do(c, "POST", "/login", url.Values{"email": {email}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sign in as %s: status %d: %s", email, res.StatusCode, body)
	}
	return c
}
