package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkdesk/linkdesk/internal/testkit"
)

// env is a sandbox served by httptest, or (newMemEnv) called in memory.
type env struct {
	t      *testing.T
	sb     *Sandbox
	srv    *httptest.Server // nil for newMemEnv
	base   string
	client *http.Client
	key    string
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	sb := New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(func() {
		srv.Close()
		sb.Close()
	})
	return &env{t: t, sb: sb, srv: srv, base: srv.URL, client: http.DefaultClient, key: envKey(opts)}
}

// newMemEnv is newEnv without sockets, for tests inside a testing/synctest
// bubble (where time only advances while every goroutine is durably blocked,
// which a goroutine in a network read never is): requests go straight to the
// sandbox's ServeHTTP. Call it inside the bubble.
func newMemEnv(t *testing.T, opts Options) *env {
	t.Helper()
	sb := New(opts)
	t.Cleanup(sb.Close)
	return &env{t: t, sb: sb, base: "http://sandbox.test", client: &http.Client{Transport: handlerTransport{sb}}, key: envKey(opts)}
}

func envKey(opts Options) string {
	if opts.APIKey == "" {
		return DefaultAPIKey
	}
	return opts.APIKey
}

// handlerTransport answers requests by calling h in memory.
type handlerTransport struct{ h http.Handler }

func (ht handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	in := httptest.NewRequestWithContext(req.Context(), req.Method, req.URL.String(), req.Body)
	in.Header = req.Header.Clone()
	rec := httptest.NewRecorder()
	ht.h.ServeHTTP(rec, in)
	if err := req.Context().Err(); err != nil {
		return nil, err // the caller gave up (its timeout) before the answer
	}
	res := rec.Result()
	res.Request = req
	return res, nil
}

type resp struct {
	status int
	header http.Header
	raw    []byte
	doc    map[string]any
}

func (r resp) get(path string) any { return jpath(r.doc, path) }

func (r resp) str(path string) string {
	v, _ := jpath(r.doc, path).(string)
	return v
}

// call sends an API request; body may be nil, a string or a value to marshal.
func (e *env) call(method, path string, body any, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.base+"/api/v1"+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Persona-Version", "2023-01-05")
	req.Header.Set("Key-Inflection", "kebab")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&out.doc); err != nil {
			e.t.Fatalf("%s %s: body is not JSON: %v\n%s", method, path, err, raw)
		}
	}
	return out
}

// mustStatus fails unless r has the status.
func mustStatus(t *testing.T, r resp, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.raw)
	}
}

// create makes an inquiry and returns its id.
func (e *env) create(tmpl string, ref string, fields map[string]any) string {
	e.t.Helper()
	body := map[string]any{"data": map[string]any{"attributes": map[string]any{
		"inquiry-template-id": tmpl, "fields": fields,
	}}}
	if ref != "" {
		body["meta"] = map[string]any{"auto-create-account-reference-id": ref}
	}
	r := e.call("POST", "/inquiries", body)
	mustStatus(e.t, r, 201)
	return r.str("data.id")
}

func (e *env) status(id string) string {
	e.t.Helper()
	r := e.call("GET", "/inquiries/"+id, nil)
	mustStatus(e.t, r, 200)
	return r.str("data.attributes.status")
}

// jpath walks a decoded JSON document: "data.attributes.status", "data.0.id".
func jpath(v any, path string) any {
	if path == "" {
		return v
	}
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// ---- browser ----

// browser is a person clicking through the hosted flow: cookie jar,
// redirects followed, forms posted as a browser would.
type browser struct {
	t      *testing.T
	c      *http.Client
	base   string
	url    string
	status int
	html   string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, c: &http.Client{Jar: jar, Transport: e.client.Transport}, base: e.base}
}

func (b *browser) finish(res *http.Response, err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	b.status, b.html, b.url = res.StatusCode, string(raw), res.Request.URL.String()
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.finish(b.c.Get(b.base + path))
}

var (
	h1Re     = regexp.MustCompile(`(?s)<h1[^>]*>(.*?)</h1>`)
	formRe   = regexp.MustCompile(`(?s)<form[^>]*>(.*?)</form>`)
	inputRe  = regexp.MustCompile(`<input([^>]*)>`)
	attrRe   = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
	selectRe = regexp.MustCompile(`(?s)<select[^>]*name="([^"]+)"[^>]*>\s*<option value="([^"]*)"`)
)

func (b *browser) heading() string {
	m := h1Re.FindAllStringSubmatch(b.html, -1)
	if len(m) != 1 {
		b.t.Fatalf("page has %d h1 elements, want 1:\n%s", len(m), b.html)
	}
	return strings.TrimSpace(m[0][1])
}

func unescape(s string) string {
	r := strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">")
	return r.Replace(s)
}

// formValues reads the page's (first) form as a browser would submit it.
func (b *browser) formValues() url.Values {
	b.t.Helper()
	m := formRe.FindStringSubmatch(b.html)
	if m == nil {
		b.t.Fatalf("no form on the page:\n%s", b.html)
	}
	v := url.Values{}
	for _, in := range inputRe.FindAllStringSubmatch(m[1], -1) {
		attrs := map[string]string{}
		for _, a := range attrRe.FindAllStringSubmatch(in[1], -1) {
			attrs[a[1]] = unescape(a[2])
		}
		if attrs["name"] == "" {
			continue
		}
		if attrs["type"] == "checkbox" {
			if strings.Contains(in[1], " checked") {
				v.Add(attrs["name"], attrs["value"])
			}
			continue
		}
		v.Add(attrs["name"], attrs["value"])
	}
	for _, s := range selectRe.FindAllStringSubmatch(m[1], -1) {
		v.Set(s[1], s[2])
	}
	return v
}

// clickContinue submits the form; pass sets the "Pass verifications" box.
func (b *browser) clickContinue(pass bool, edit func(url.Values)) {
	b.t.Helper()
	if !strings.Contains(b.html, `<button type="submit">Continue</button>`) {
		b.t.Fatalf("no Continue button on the page:\n%s", b.html)
	}
	v := b.formValues()
	if strings.Contains(b.html, `name="pass"`) {
		v.Del("pass")
		if pass {
			v.Set("pass", "1")
		}
	}
	if edit != nil {
		edit(v)
	}
	b.finish(b.c.PostForm(b.base+"/verify", v))
}

// ---- webhook receiver ----

type hookReq struct {
	header http.Header
	body   []byte
	at     time.Time
}

type receiver struct {
	mu     sync.Mutex
	reqs   []hookReq
	answer func(n int) int  // status for the n-th request (1-based)
	srv    *httptest.Server // nil for newMemReceiver
	notify chan struct{}
}

func newReceiver(t *testing.T, answer func(n int) int) *receiver {
	rc := &receiver{answer: answer, notify: make(chan struct{}, 1000)}
	rc.srv = httptest.NewServer(rc)
	t.Cleanup(rc.srv.Close)
	return rc
}

// newMemReceiver is a receiver without a socket, for a testing/synctest
// bubble: pass memReceiverURL and handlerTransport{rc} as the sandbox's
// WebhookURL and WebhookTransport.
func newMemReceiver(answer func(n int) int) *receiver {
	return &receiver{answer: answer, notify: make(chan struct{}, 1000)}
}

const memReceiverURL = "http://receiver.test/hooks"

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, hookReq{r.Header.Clone(), body, time.Now()})
	n := len(rc.reqs)
	rc.mu.Unlock()
	status := 200
	if rc.answer != nil {
		status = rc.answer(n)
	}
	w.WriteHeader(status)
	rc.notify <- struct{}{}
}

func (rc *receiver) all() []hookReq {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hookReq(nil), rc.reqs...)
}

// waitFor waits until cond holds for the requests received so far.
func (rc *receiver) waitFor(t *testing.T, what string, cond func([]hookReq) bool) []hookReq {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if r := rc.all(); cond(r) {
			return r
		}
		select {
		case <-rc.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; got %d requests", what, len(rc.all()))
		}
	}
}

// waitSettled waits until every event emitted so far has been delivered, abandoned, skipped or
// dropped: no first attempt or retry is left to come, so what a receiver holds is final (with
// DuplicateWebhooks off: each event is then one delivery).
func (e *env) waitSettled() {
	e.t.Helper()
	testkit.Eventually(e.t, "webhook deliveries settled", 10*time.Second, func() bool {
		st := e.sb.Stats()
		return st.WebhooksDelivered+st.WebhooksAbandoned+st.WebhooksSkipped+st.WebhooksDropped >= st.Events
	})
}

func eventName(t *testing.T, h hookReq) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(h.body, &doc); err != nil {
		t.Fatalf("webhook body is not JSON: %v", err)
	}
	n, _ := jpath(doc, "data.attributes.name").(string)
	return n
}

func eventField(t *testing.T, h hookReq, path string) any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(h.body, &doc); err != nil {
		t.Fatalf("webhook body is not JSON: %v", err)
	}
	return jpath(doc, path)
}
