package sandbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ---- session tokens: JWTs shaped like Persona's (HS256, sub = session) ----

func (s *Sandbox) sessionToken(ss *session, base string) string {
	iss := "sandbox.linkdesk.local"
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		iss = u.Host
	}
	now := time.Now().Unix()
	payload := obj{
		{"sub", ss.id}, {"aud", "persona-verify"}, {"iss", iss},
		{"iat", now}, {"nbf", now}, {"exp", now + 86400},
		{"jti", newUUID()}, {"sid", ss.id},
	}
	pb, _ := json.Marshal(payload)
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"alg":"HS256"}`)) + "." + enc.EncodeToString(pb)
	mac := hmac.New(sha256.New, s.jwtKey)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// sessionFromToken returns the valid session tok names for inquiry q.
func (s *Sandbox) sessionFromToken(tok string, q *inquiry) *session {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	enc := base64.RawURLEncoding
	mac := hmac.New(sha256.New, s.jwtKey)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := enc.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return nil
	}
	pb, err := enc.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var claims struct {
		Sid string `json:"sid"`
		Exp int64  `json:"exp"`
		Nbf int64  `json:"nbf"`
	}
	if json.Unmarshal(pb, &claims) != nil {
		return nil
	}
	now := time.Now().Unix()
	if now >= claims.Exp || now < claims.Nbf-5 {
		return nil
	}
	ss := s.sessions[claims.Sid]
	if ss == nil || ss.inquiryID != q.id || !s.sessionValid(ss) {
		return nil
	}
	return ss
}

func (s *Sandbox) activate(ss *session, r *http.Request) {
	if ss.status == "new" {
		ss.status = "active"
		ss.startedAt = s.clock.stamp()
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ss.ip = host
	}
	ss.userAgent = r.UserAgent()
}

// ---- pages ----

type pageField struct {
	Key, Label, Value, InputType, Autocomplete string
}

type page struct {
	Heading     string
	Kind        string // details, government-id, selfie, done, message
	Progress    string
	InquiryID   string
	Token       string
	Step        string
	RedirectURI string
	Fields      []pageField
	Custom      []pageField
	Message     string
	Status      string
	Error       string
	Pass        bool
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Heading}} · Persona sandbox</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;background:#f6f6f8}
.banner{background:#ffe08a;border-bottom:2px solid #b38600;padding:.6rem 1rem;text-align:center}
main{max-width:34rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
label{display:block;font-weight:600;margin-top:.8rem}
input[type=text],input[type=date],input[type=email],input[type=tel],select{width:100%;padding:.45rem;box-sizing:border-box;font:inherit}
.check{display:flex;gap:.5rem;align-items:center;margin-top:1.2rem}
.check label{display:inline;margin:0}
button{margin-top:1.2rem;padding:.6rem 1.4rem;font:inherit;font-weight:600;background:#3b3bd8;color:#fff;border:0;border-radius:6px;cursor:pointer}
button:focus,input:focus,select:focus{outline:3px solid #ffbf47;outline-offset:1px}
.progress{color:#555;margin-top:0}
.error{color:#a00;font-weight:600}
dt{font-weight:600}
</style>
</head>
<body>
<div class="banner" role="note"><strong>Persona sandbox — no real verification</strong>. Nothing you enter here is checked and no real Persona service is involved.</div>
<main>
<h1>{{.Heading}}</h1>
{{if .Progress}}<p class="progress">{{.Progress}}</p>{{end}}
{{if .Error}}<p class="error" role="alert" id="form-error">{{.Error}}</p>{{end}}
{{if or (eq .Kind "details") (eq .Kind "government-id") (eq .Kind "selfie")}}
<form method="post" action="/verify">
<input type="hidden" name="inquiry-id" value="{{.InquiryID}}">
<input type="hidden" name="session-token" value="{{.Token}}">
<input type="hidden" name="step" value="{{.Step}}">
{{if .RedirectURI}}<input type="hidden" name="redirect-uri" value="{{.RedirectURI}}">{{end}}
{{if eq .Kind "details"}}
<p>Check the details we have for you and correct anything that is wrong.</p>
{{range .Fields}}<label for="field-{{.Key}}">{{.Label}}</label>
<input type="{{.InputType}}" id="field-{{.Key}}" name="fields[{{.Key}}]" value="{{.Value}}"{{if .Autocomplete}} autocomplete="{{.Autocomplete}}"{{end}}>
{{end}}
{{if .Custom}}<h2>Other information</h2>
<dl>{{range .Custom}}<dt>{{.Label}}</dt><dd>{{.Value}}</dd>{{end}}</dl>{{end}}
{{else if eq .Kind "government-id"}}
<p>In the sandbox there is no real upload: choose the kind of ID and continue to submit a sample one.</p>
<label for="id-class">ID type</label>
<select id="id-class" name="id-class">
<option value="dl">Driver license</option>
<option value="pp">Passport</option>
<option value="id">National ID card</option>
</select>
<p id="id-name-hint">The sample ID reads ALEXANDER J SAMPLE. To try a different name on the ID, type it here.</p>
<label for="id-name-first">First name on the ID</label>
<input type="text" id="id-name-first" name="id-name-first" aria-describedby="id-name-hint" autocomplete="off">
<label for="id-name-last">Last name on the ID</label>
<input type="text" id="id-name-last" name="id-name-last" aria-describedby="id-name-hint" autocomplete="off">
{{else}}
<p>In the sandbox there is no camera: continue to submit a sample selfie.</p>
{{end}}
<div class="check"><input type="checkbox" id="pass" name="pass" value="1"{{if .Pass}} checked{{end}}><label for="pass">Pass verifications</label></div>
<button type="submit">Continue</button>
</form>
{{else if eq .Kind "done"}}
<p>{{.Message}}</p>
{{if .Status}}<p>Inquiry <code>{{.InquiryID}}</code> is now <strong>{{.Status}}</strong>.</p>{{end}}
{{if .RedirectURI}}<form method="post" action="/verify">
<input type="hidden" name="action" value="redirect">
<input type="hidden" name="inquiry-id" value="{{.InquiryID}}">
<input type="hidden" name="redirect-uri" value="{{.RedirectURI}}">
<button type="submit">Continue</button>
</form>{{end}}
{{else}}
<p>{{.Message}}</p>
{{end}}
</main>
</body>
</html>
`))

func renderPage(w http.ResponseWriter, status int, p page) {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, p); err != nil {
		http.Error(w, "sandbox: render: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func messagePage(w http.ResponseWriter, status int, heading, msg string) {
	renderPage(w, status, page{Heading: heading, Kind: "message", Message: msg})
}

// ---- the hosted flow ----

func (s *Sandbox) serveHosted(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/verify" {
		messagePage(w, http.StatusNotFound, "Page not found", "There is no such page in the Persona sandbox.")
		return
	}
	switch r.Method {
	case http.MethodHead:
		// No side effects: a HEAD of a template link must not create an inquiry.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
	case http.MethodGet:
		s.hostedGet(w, r)
	case http.MethodPost:
		s.hostedPost(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		messagePage(w, http.StatusMethodNotAllowed, "Method not allowed", "Use GET or POST.")
	}
}

// viewURL is where the flow continues for q with the session token.
func viewURL(q *inquiry, token, redirectURI string) string {
	v := url.Values{}
	v.Set("inquiry-id", q.id)
	if token != "" {
		v.Set("session-token", token)
	}
	if redirectURI != "" {
		v.Set("redirect-uri", redirectURI)
	}
	return "/verify?" + v.Encode()
}

func (s *Sandbox) hostedGet(w http.ResponseWriter, r *http.Request) {
	qv := r.URL.Query()
	redirect := qv.Get("redirect-uri")
	if redirect != "" && !safeRedirect(redirect) {
		messagePage(w, http.StatusBadRequest, "Link not valid", "The redirect-uri of this link is not an absolute URI.")
		return
	}
	tmplID := firstNonEmpty(qv.Get("inquiry-template-id"), qv.Get("inquiry-template-version-id"), qv.Get("template-id"))
	inqID := qv.Get("inquiry-id")
	code := qv.Get("code")

	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case inqID != "" && tmplID != "":
		messagePage(w, http.StatusBadRequest, "Link not valid", "A link cannot name both an inquiry and an inquiry template.")
	case code != "":
		s.hostedCode(w, r, code, redirect)
	case inqID != "":
		s.hostedInquiry(w, r, inqID, qv.Get("session-token"), redirect)
	case tmplID != "":
		s.hostedTemplate(w, r, qv, redirect)
	default:
		messagePage(w, http.StatusBadRequest, "Link not valid", "This link names no inquiry. Ask for a new link.")
	}
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func (s *Sandbox) hostedCode(w http.ResponseWriter, r *http.Request, code, redirect string) {
	l := s.otls[code]
	if l == nil {
		l = s.otls[strings.ToUpper(code)]
	}
	if l == nil {
		messagePage(w, http.StatusNotFound, "Link not valid", "This one-time link does not exist. Ask for a new link.")
		return
	}
	q := s.findInquiry(l.inquiryID)
	now := time.Now()
	browser := browserID(w, r)
	usedUp := !l.firstUsed.IsZero() && (now.After(l.firstUsed.Add(otlGrace)) || l.browser != browser)
	if q == nil || !now.Before(l.expiresAt) || usedUp || q.status == "expired" {
		messagePage(w, http.StatusGone, "Link expired", "This one-time link has expired or was already used. Ask for a new link.")
		return
	}
	if !q.redactedAt.IsZero() {
		messagePage(w, http.StatusGone, "Inquiry unavailable", "This inquiry is no longer available.")
		return
	}
	ss := s.sessions[l.sessionID]
	if ss == nil || !s.sessionValid(ss) {
		messagePage(w, http.StatusGone, "Link expired", "This one-time link has expired. Ask for a new link.")
		return
	}
	if l.firstUsed.IsZero() {
		l.firstUsed, l.browser = now, browser
	}
	s.activate(ss, r)
	http.Redirect(w, r, viewURL(q, s.sessionToken(ss, s.baseURL(r)), redirect), http.StatusSeeOther)
}

// browserCookie names the browser to the sandbox, so a one-time link opened again from another
// browser is refused (Persona's one-time links are for one person; session-token links are not).
const browserCookie = "sandbox_browser"

// browserID returns the browser's id from its cookie, giving it one if it has none.
func browserID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(browserCookie); err == nil && len(c.Value) == 32 {
		return c.Value
	}
	id := randomString(32)
	http.SetCookie(w, &http.Cookie{Name: browserCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 30 * 24 * 3600})
	return id
}

func (s *Sandbox) hostedTemplate(w http.ResponseWriter, r *http.Request, qv url.Values, redirect string) {
	if env := qv.Get("environment-id"); env != "" && env != EnvironmentID {
		messagePage(w, http.StatusNotFound, "Link not valid", "This link names an environment the sandbox does not have.")
		return
	}
	if env := qv.Get("environment"); env != "" && env != "sandbox" {
		messagePage(w, http.StatusNotFound, "Link not valid", "The sandbox only has the sandbox environment.")
		return
	}
	var t *tmplDef
	if id := qv.Get("inquiry-template-id"); id != "" {
		t = s.tmplByID[id]
	} else if id := qv.Get("inquiry-template-version-id"); id != "" {
		t = s.tmplByVersion[id]
	}
	if t == nil {
		messagePage(w, http.StatusNotFound, "Link not valid", "This link names an inquiry template that does not exist.")
		return
	}
	raw := map[string]any{}
	for k, vs := range qv {
		for _, prefix := range []string{"prefill[", "fields["} { // fields wins: it comes last
			if name, ok := strings.CutPrefix(k, prefix); ok && strings.HasSuffix(name, "]") && len(vs) > 0 {
				raw[strings.TrimSuffix(name, "]")] = vs[0]
			}
		}
	}
	fields, order, bad := parseFields(raw, "/fields")
	if bad != nil {
		msg := "The prefilled fields of this link are not valid."
		if e, ok := bad.body.(map[string]any)["errors"].([]apiError); ok && len(e) > 0 {
			msg += " " + e[0].Details + "."
		}
		messagePage(w, http.StatusBadRequest, "Link not valid", msg)
		return
	}
	in := createInput{tmpl: t, creator: "Hosted flow", referenceID: strings.TrimSpace(qv.Get("reference-id")),
		fields: fields, fieldOrder: order, redirectURI: redirect}
	if acct := qv.Get("account-id"); acct != "" {
		a := s.accounts[acct]
		if a == nil || in.referenceID != "" {
			messagePage(w, http.StatusBadRequest, "Link not valid", "This link names an account that does not exist, or both an account and a reference ID.")
			return
		}
		in.accountID, in.referenceID = a.id, a.referenceID
	} else {
		in.accountID = s.accountFor(in.referenceID).id
	}
	q := s.createInquiry(in)
	ss := s.newSession(q, "")
	s.activate(ss, r)
	http.Redirect(w, r, viewURL(q, s.sessionToken(ss, s.baseURL(r)), redirect), http.StatusSeeOther)
}

func (s *Sandbox) hostedInquiry(w http.ResponseWriter, r *http.Request, id, token, redirect string) {
	q := s.findInquiry(id)
	if q == nil {
		messagePage(w, http.StatusNotFound, "Inquiry not found", "This link names an inquiry that does not exist. Ask for a new link.")
		return
	}
	if !q.redactedAt.IsZero() {
		messagePage(w, http.StatusGone, "Inquiry unavailable", "This inquiry is no longer available.")
		return
	}
	switch q.status {
	case "expired":
		messagePage(w, http.StatusGone, "Link expired", "This verification has expired. Ask for a new link.")
		return
	case "created", "pending":
	default:
		s.renderDone(w, q, redirect)
		return
	}
	var ss *session
	if token != "" {
		ss = s.sessionFromToken(token, q)
	}
	if ss == nil {
		if q.status == "pending" {
			messagePage(w, http.StatusForbidden, "Session expired",
				"This verification was already started, so this link no longer opens it. Ask for a new link to continue where you left off.")
			return
		}
		// A created inquiry can be opened by anyone with the link: start a
		// session and continue on a URL that carries its token.
		ss = s.newSession(q, "")
		s.activate(ss, r)
		http.Redirect(w, r, viewURL(q, s.sessionToken(ss, s.baseURL(r)), redirect), http.StatusSeeOther)
		return
	}
	s.activate(ss, r)
	s.renderStep(w, http.StatusOK, q, token, redirect, "", nil)
}

// fieldInputs gives the standard fields their input type and autocomplete
// token, so browsers can fill the details step; a field not listed is plain text.
var fieldInputs = map[string]struct{ typ, autocomplete string }{
	"birthdate":            {"date", "bday"},
	"email-address":        {"email", "email"},
	"phone-number":         {"tel", "tel"},
	"name-first":           {"text", "given-name"},
	"name-middle":          {"text", "additional-name"},
	"name-last":            {"text", "family-name"},
	"address-street-1":     {"text", "address-line1"},
	"address-street-2":     {"text", "address-line2"},
	"address-city":         {"text", "address-level2"},
	"address-subdivision":  {"text", "address-level1"},
	"address-postal-code":  {"text", "postal-code"},
	"address-country-code": {"text", "country"},
}

// renderStep shows q's next step; typed overrides the stored field values
// (to show what the person entered when it was not valid).
func (s *Sandbox) renderStep(w http.ResponseWriter, status int, q *inquiry, token, redirect, errMsg string, typed map[string]string) {
	st := flowSteps[q.step]
	p := page{
		Heading:     st.title,
		Progress:    st.progress,
		InquiryID:   q.id,
		Token:       token,
		Step:        st.name,
		RedirectURI: redirect,
		Error:       errMsg,
		Pass:        true,
	}
	switch st.vtype {
	case "verification/database":
		p.Kind = "details"
		for _, f := range standardFields {
			pf := pageField{Key: f.key, Label: f.label, Value: q.fieldString(f.key), InputType: "text"}
			if v, ok := typed[f.key]; ok {
				pf.Value = v
			}
			if in, ok := fieldInputs[f.key]; ok {
				pf.InputType, pf.Autocomplete = in.typ, in.autocomplete
			}
			p.Fields = append(p.Fields, pf)
		}
		for _, k := range q.customKeys {
			p.Custom = append(p.Custom, pageField{Key: k, Label: k, Value: q.fieldString(k)})
		}
	case "verification/government-id":
		p.Kind = "government-id"
	default:
		p.Kind = "selfie"
	}
	renderPage(w, status, p)
}

func (s *Sandbox) renderDone(w http.ResponseWriter, q *inquiry, redirect string) {
	if redirect == "" {
		redirect = q.redirectURI
	}
	p := page{Kind: "done", InquiryID: q.id, Status: q.status}
	switch q.outcome {
	case "completed":
		p.Heading = "Verification complete"
		p.Message = "Thank you: your verification is complete."
	case "failed":
		p.Heading = "Verification failed"
		p.Message = "We could not verify your identity."
	default:
		p.Heading = "Verification closed"
		p.Message = "This verification can no longer be continued."
		redirect = ""
	}
	p.RedirectURI = redirect
	renderPage(w, http.StatusOK, p)
}

func (s *Sandbox) hostedPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		messagePage(w, http.StatusBadRequest, "Form not valid", "The form could not be read.")
		return
	}
	f := r.PostForm
	redirect := f.Get("redirect-uri")
	if redirect != "" && !safeRedirect(redirect) {
		messagePage(w, http.StatusBadRequest, "Form not valid", "The redirect-uri is not an absolute URI.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.findInquiry(f.Get("inquiry-id"))
	if q == nil {
		messagePage(w, http.StatusNotFound, "Inquiry not found", "This inquiry does not exist.")
		return
	}
	if f.Get("action") == "redirect" {
		s.redirectDone(w, r, q, redirect)
		return
	}
	if !q.redactedAt.IsZero() {
		messagePage(w, http.StatusGone, "Inquiry unavailable", "This inquiry is no longer available.")
		return
	}
	if q.status == "expired" {
		messagePage(w, http.StatusGone, "Link expired", "This verification has expired. Ask for a new link.")
		return
	}
	token := f.Get("session-token")
	ss := s.sessionFromToken(token, q)
	if ss == nil {
		messagePage(w, http.StatusForbidden, "Session expired", "This session is no longer valid. Ask for a new link to continue where you left off.")
		return
	}
	if !q.open() || f.Get("step") != flowSteps[q.step].name {
		// Finished, or a form submitted twice: show where the inquiry is now.
		http.Redirect(w, r, viewURL(q, token, redirect), http.StatusSeeOther)
		return
	}
	s.activate(ss, r)
	in := stepInput{idClass: f.Get("id-class")}
	switch flowSteps[q.step].vtype {
	case "verification/database":
		raw := map[string]any{}
		for _, sf := range standardFields {
			if vs, ok := f["fields["+sf.key+"]"]; ok && len(vs) > 0 {
				raw[sf.key] = vs[0]
			}
		}
		fields, order, bad := parseFields(raw, "/fields")
		if bad != nil {
			msg := "Check the details you entered."
			if e, ok := bad.body.(map[string]any)["errors"].([]apiError); ok && len(e) > 0 {
				msg = "Check the details you entered: " + e[0].Details + "."
			}
			typed := map[string]string{}
			for k, v := range raw {
				typed[k], _ = v.(string)
			}
			s.renderStep(w, http.StatusUnprocessableEntity, q, token, redirect, msg, typed)
			return
		}
		in.fields, in.fieldOrder = fields, order
	case "verification/government-id":
		switch in.idClass {
		case "dl", "pp", "id":
		default:
			in.idClass = "dl"
		}
		in.idFirst, in.idLast = idName(f.Get("id-name-first")), idName(f.Get("id-name-last"))
	}
	s.submitStep(q, f.Get("pass") != "", in)
	http.Redirect(w, r, viewURL(q, token, redirect), http.StatusSeeOther)
}

// redirectDone sends the person to the redirect URI with Persona's query
// parameters (inquiry-id, status, reference-id) once the flow is done.
func (s *Sandbox) redirectDone(w http.ResponseWriter, r *http.Request, q *inquiry, redirect string) {
	if redirect == "" {
		redirect = q.redirectURI
	}
	if q.outcome == "" || redirect == "" || !safeRedirect(redirect) {
		http.Redirect(w, r, "/verify?inquiry-id="+url.QueryEscape(q.id), http.StatusSeeOther)
		return
	}
	u, _ := url.Parse(redirect)
	v := u.Query()
	v.Set("inquiry-id", q.id)
	v.Set("status", q.outcome)
	if q.referenceID != "" {
		v.Set("reference-id", q.referenceID)
	}
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// idName is a name typed for the sample ID: trimmed, at most 100 characters.
func idName(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 100 {
		s = string(r[:100])
	}
	return s
}
