package handlers

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/linkdesk/linkdesk/db"
	"github.com/linkdesk/linkdesk/inquiry"
	"github.com/linkdesk/linkdesk/internal/testkit"
)

// With an https base URL the console sends HSTS and names its cookie with the __Host- prefix
// (Secure, Path=/, no Domain), so no other origin can set it; over plain HTTP neither.
func TestHTTPSConsoleHSTSAndHostCookie(t *testing.T) {
	d := testkit.OpenDB(t)
	ts := httptest.NewUnstartedServer(nil)
	srv, _ := newServer(t, Config{BaseURL: "https://" + ts.Listener.Addr().String()}, d, inquiry.Settings{}, testkit.Discard(), wiring{})
	ts.Config.Handler = srv.Handler()
	ts.StartTLS()
	t.Cleanup(ts.Close)
	testkit.AddUser(t, d, "vic@example.com", db.RoleViewer, pw)
	c := ts.Client()
	c.Jar, _ = cookiejar.New(nil)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest("POST", ts.URL+"/login", strings.NewReader(url.Values{"email": {"vic@example.com"}, "password": {pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	noErr(t, err)
	res.Body.Close()
	if hsts := res.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("no HSTS: %q", hsts)
	}
	var sc *http.Cookie
	for _, ck := range res.Cookies() {
		sc = ck
	}
	if res.StatusCode != http.StatusSeeOther || sc == nil || sc.Name != "__Host-linkdesk" || !sc.Secure || sc.Path != "/" || sc.Domain != "" {
		t.Fatalf("sign-in: %d, cookie %+v", res.StatusCode, sc)
	}
	res, err = c.Get(ts.URL + "/inquiries")
	noErr(t, err)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("signed in with the __Host- cookie: %d", res.StatusCode)
	}

	// Plain HTTP: no HSTS (it would lock a local console out of http), the plain name.
	e := newTestEnv(t)
	e.addUser("vic@example.com", db.RoleViewer, pw)
	res, _ = e.do(e.client(), "POST", "/login", url.Values{"email": {"vic@example.com"}, "password": {pw}})
	if res.Header.Get("Strict-Transport-Security") != "" || len(res.Cookies()) == 0 || res.Cookies()[0].Name != "linkdesk" {
		t.Errorf("plain HTTP: HSTS %q, cookies %v", res.Header.Get("Strict-Transport-Security"), res.Cookies())
	}
}
