package sandbox

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// walk clicks Continue through every step with the given outcome and
// returns the final heading.
func walk(t *testing.T, b *browser, pass bool) string {
	t.Helper()
	steps := []string{"Confirm your details", "Government ID", "Selfie"}
	for i, want := range steps {
		if got := b.heading(); got != want {
			t.Fatalf("step %d: heading %q, want %q", i+1, got, want)
		}
		checkAccessible(t, b.html)
		b.clickContinue(pass, nil)
		if !pass {
			break
		}
	}
	if b.status != http.StatusOK {
		t.Fatalf("final page status %d", b.status)
	}
	checkAccessible(t, b.html)
	return b.heading()
}

var (
	idAttrRe    = regexp.MustCompile(`<(?:input|select)[^>]*\bid="([^"]+)"`)
	labelForRe  = regexp.MustCompile(`<label for="([^"]+)"`)
	hiddenRe    = regexp.MustCompile(`type="hidden"`)
	inputTagRe  = regexp.MustCompile(`<(input|select)\b[^>]*>`)
	bannerText  = "Persona sandbox — no real verification"
	passLabelRe = regexp.MustCompile(`<input type="checkbox" id="pass" name="pass" value="1" checked><label for="pass">Pass verifications</label>`)
)

// checkAccessible checks the page basics: lang, one h1, the banner, and a
// label for every visible input.
func checkAccessible(t *testing.T, html string) {
	t.Helper()
	if !strings.Contains(html, `<html lang="en">`) {
		t.Errorf("no lang attribute")
	}
	if n := strings.Count(html, "<h1"); n != 1 {
		t.Errorf("%d h1 elements", n)
	}
	if !strings.Contains(html, bannerText) {
		t.Errorf("no sandbox banner")
	}
	labels := map[string]bool{}
	for _, m := range labelForRe.FindAllStringSubmatch(html, -1) {
		labels[m[1]] = true
	}
	for _, tag := range inputTagRe.FindAllString(html, -1) {
		if hiddenRe.MatchString(tag) {
			continue
		}
		m := idAttrRe.FindStringSubmatch(tag)
		if m == nil || !labels[m[1]] {
			t.Errorf("input without a label: %s", tag)
		}
	}
	if strings.Contains(html, `name="step"`) && !passLabelRe.MatchString(html) {
		t.Errorf("step page without a checked \"Pass verifications\" checkbox")
	}
}

func TestHostedFlow(t *testing.T) {
	cases := []struct {
		tmpl    string
		pass    bool
		heading string
		status  string
	}{
		{TemplateKYC, true, "Verification complete", "approved"},
		{TemplateKYC, false, "Verification failed", "failed"},
		{TemplateKYCManualReview, true, "Verification complete", "needs_review"},
		{TemplateKYCManualReview, false, "Verification failed", "failed"},
	}
	e := newEnv(t, Options{})
	for _, c := range cases {
		name := "KYC"
		if c.tmpl == TemplateKYCManualReview {
			name = "manual review"
		}
		if !c.pass {
			name += " failing"
		}
		t.Run(name, func(t *testing.T) {
			id := e.create(c.tmpl, "person-1", map[string]any{"name-first": "Jane", "name-last": "Doe", "birthdate": "1990-05-17"})
			b := e.browser()
			b.open("/verify?inquiry-id=" + id)
			if e.status(id) != "created" {
				t.Errorf("opening the link must not change the status")
			}
			if !strings.Contains(b.html, `value="Jane"`) || !strings.Contains(b.html, `value="1990-05-17"`) {
				t.Errorf("prefilled fields not shown")
			}
			if got := walk(t, b, c.pass); got != c.heading {
				t.Fatalf("final heading %q, want %q", got, c.heading)
			}
			if st := e.status(id); st != c.status {
				t.Errorf("status %s, want %s", st, c.status)
			}
			r := e.call("GET", "/inquiries/"+id+"?include=", nil)
			nv := len(r.get("data.relationships.verifications.data").([]any))
			if c.pass && nv != 3 || !c.pass && nv != 1 {
				t.Errorf("%d verifications", nv)
			}
			if r.get("data.attributes.started-at") == nil || len(r.get("data.relationships.sessions.data").([]any)) == 0 {
				t.Errorf("started-at / sessions: %s", r.raw)
			}
			if c.pass && r.get("data.attributes.completed-at") == nil || !c.pass && r.get("data.attributes.failed-at") == nil {
				t.Errorf("completed-at / failed-at: %s", r.raw)
			}
			wantNext := "success"
			if !c.pass {
				wantNext = "fail"
			}
			if r.str("data.attributes.next-step-name") != wantNext {
				t.Errorf("next-step-name %q", r.str("data.attributes.next-step-name"))
			}
			// The same link now shows the outcome.
			b2 := e.browser()
			b2.open("/verify?inquiry-id=" + id)
			if b2.heading() != c.heading {
				t.Errorf("reopened: %q", b2.heading())
			}
		})
	}
}

func TestHostedFlowEditsFieldsAndValidates(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(TemplateKYC, "", map[string]any{"name-first": "Jane"})
	b := e.browser()
	b.open("/verify?inquiry-id=" + id)
	b.clickContinue(true, func(v url.Values) { v.Set("fields[birthdate]", "17/05/1990") })
	if b.status != http.StatusUnprocessableEntity || !strings.Contains(b.html, `role="alert"`) || b.heading() != "Confirm your details" {
		t.Fatalf("invalid birthdate: %d %s", b.status, b.html)
	}
	if e.status(id) != "created" {
		t.Errorf("an invalid form must not start the inquiry")
	}
	b.clickContinue(true, func(v url.Values) {
		v.Set("fields[birthdate]", "1990-05-17")
		v.Set("fields[address-city]", "Lyon")
	})
	if b.heading() != "Government ID" {
		t.Fatalf("after details: %q", b.heading())
	}
	r := e.call("GET", "/inquiries/"+id, nil)
	if r.str("data.attributes.status") != "pending" || r.str("data.attributes.birthdate") != "1990-05-17" || r.str("data.attributes.address-city") != "Lyon" {
		t.Errorf("after the first step: %s", r.raw)
	}
	// Submitting the same step twice (back button) does nothing more.
	r1 := e.call("GET", "/inquiries/"+id+"?include=", nil)
	v := url.Values{"inquiry-id": {id}, "session-token": {b.formValues().Get("session-token")}, "step": {"verification_database"}, "pass": {"1"}}
	b.finish(b.c.PostForm(b.base+"/verify", v))
	if b.heading() != "Government ID" {
		t.Errorf("double submit: %q", b.heading())
	}
	r2 := e.call("GET", "/inquiries/"+id+"?include=", nil)
	if len(r1.get("data.relationships.verifications.data").([]any)) != len(r2.get("data.relationships.verifications.data").([]any)) {
		t.Errorf("double submit created a verification")
	}
}

func TestHostedFlowSessionRules(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.create(TemplateKYC, "", nil)
	b := e.browser()
	b.open("/verify?inquiry-id=" + id)
	b.clickContinue(true, nil) // now pending
	if b.heading() != "Government ID" {
		t.Fatalf("heading %q", b.heading())
	}
	// The plain link no longer opens a pending inquiry.
	other := e.browser()
	other.open("/verify?inquiry-id=" + id)
	if other.status != http.StatusForbidden || other.heading() != "Session expired" {
		t.Errorf("pending without token: %d %q", other.status, other.heading())
	}
	other.open("/verify?inquiry-id=" + id + "&session-token=forged.token.value")
	if other.status != http.StatusForbidden {
		t.Errorf("forged token: %d", other.status)
	}
	// Resume gives a token that opens it where it was.
	r := e.call("POST", "/inquiries/"+id+"/resume", nil)
	other.open("/verify?inquiry-id=" + id + "&session-token=" + url.QueryEscape(r.str("meta.session-token")))
	if other.status != 200 || other.heading() != "Government ID" {
		t.Errorf("resumed: %d %q", other.status, other.heading())
	}
	// A one-time link too; it is single use with a grace period, and gone
	// once the inquiry expires.
	l := e.call("POST", "/inquiries/"+id+"/generate-one-time-link", nil)
	u, _ := url.Parse(l.str("meta.one-time-link"))
	third := e.browser()
	third.open("/verify?" + u.RawQuery)
	if third.heading() != "Government ID" {
		t.Errorf("one-time link: %q", third.heading())
	}
	third.open("/verify?" + u.RawQuery)
	if third.heading() != "Government ID" {
		t.Errorf("one-time link within the grace period: %q", third.heading())
	}
	// Another browser is refused at once (one person's link); the first one keeps working.
	fourth := e.browser()
	fourth.open("/verify?" + u.RawQuery)
	if fourth.status != http.StatusGone || fourth.heading() != "Link expired" {
		t.Errorf("one-time link from another browser: %d %q", fourth.status, fourth.heading())
	}
	third.open("/verify?" + u.RawQuery)
	if third.heading() != "Government ID" {
		t.Errorf("one-time link in its first browser after another tried it: %q", third.heading())
	}
	e.call("POST", "/inquiries/"+id+"/expire", nil)
	third.open("/verify?" + u.RawQuery)
	if third.status != http.StatusGone || third.heading() != "Link expired" {
		t.Errorf("one-time link after expiry: %d %q", third.status, third.heading())
	}
	other.open("/verify?inquiry-id=" + id + "&session-token=" + url.QueryEscape(r.str("meta.session-token")))
	if other.heading() != "Link expired" {
		t.Errorf("expired inquiry: %q", other.heading())
	}
	b.clickContinue(true, nil)
	if b.status != http.StatusGone {
		t.Errorf("posting to an expired inquiry: %d", b.status)
	}
	for _, p := range []string{"/verify", "/verify?inquiry-id=inq_nope", "/verify?code=nope", "/verify?inquiry-id=" + id + "&inquiry-template-id=" + TemplateKYC} {
		other.open(p)
		if other.status < 400 {
			t.Errorf("%s: %d", p, other.status)
		}
		checkAccessible(t, other.html)
	}
}

func TestHostedFlowRedirect(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.call("POST", "/inquiries", map[string]any{
		"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": TemplateKYC, "redirect-uri": "https://example.com/done?from=persona"}},
		"meta": map[string]any{"auto-create-account-reference-id": "user 7"}})
	id := r.str("data.id")
	b := e.browser()
	b.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "http" || req.URL.Host == "example.com" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	b.open("/verify?inquiry-id=" + id)
	walk(t, b, true)
	if !strings.Contains(b.html, `<button type="submit">Continue</button>`) {
		t.Fatalf("no Continue on the final page with a redirect-uri")
	}
	res, err := b.c.PostForm(b.base+"/verify", b.formValues())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	q := loc.Query()
	if res.StatusCode != http.StatusSeeOther || loc.Host != "example.com" || loc.Path != "/done" || q.Get("from") != "persona" ||
		q.Get("inquiry-id") != id || q.Get("status") != "completed" || q.Get("reference-id") != "user 7" {
		t.Errorf("redirect %d %s", res.StatusCode, loc)
	}

	// Without a redirect-uri the final page has no Continue.
	id2 := e.create(TemplateKYC, "", nil)
	b2 := e.browser()
	b2.open("/verify?inquiry-id=" + id2)
	walk(t, b2, false)
	if strings.Contains(b2.html, "<button") {
		t.Errorf("Continue without a redirect-uri")
	}
	// redirect-uri as a link parameter, failed outcome.
	id3 := e.create(TemplateKYC, "", nil)
	b3 := e.browser()
	b3.c.CheckRedirect = b.c.CheckRedirect
	b3.open("/verify?inquiry-id=" + id3 + "&redirect-uri=" + url.QueryEscape("myapp://verified"))
	walk(t, b3, false)
	res, err = b3.c.PostForm(b3.base+"/verify", b3.formValues())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "myapp://verified?") || !strings.Contains(loc, "status=failed") {
		t.Errorf("custom scheme redirect: %q", loc)
	}
}

func TestHostedTemplateLink(t *testing.T) {
	e := newEnv(t, Options{})
	link := "/verify?inquiry-template-id=" + TemplateKYC + "&environment-id=" + EnvironmentID +
		"&reference-id=walk-in&fields%5Bname-first%5D=Jane&fields%5Bbirthdate%5D=1957-05-29"
	b := e.browser()
	b.open(link)
	if b.heading() != "Confirm your details" || !strings.Contains(b.html, `value="Jane"`) || !strings.Contains(b.html, `value="1957-05-29"`) {
		t.Fatalf("template link: %q", b.heading())
	}
	b2 := e.browser()
	b2.open(link)
	r := e.call("GET", "/inquiries?filter%5Breference-id%5D=walk-in", nil)
	if n := len(r.get("data").([]any)); n != 2 {
		t.Errorf("a template link creates an inquiry on every visit: %d", n)
	}
	if walk(t, b, true) != "Verification complete" {
		t.Errorf("template link flow")
	}
	b.open("/verify?inquiry-template-id=" + TemplateKYC + "&environment-id=env_other")
	if b.status != http.StatusNotFound {
		t.Errorf("wrong environment: %d", b.status)
	}
	b.open("/verify?inquiry-template-id=itmpl_nope")
	if b.status != http.StatusNotFound {
		t.Errorf("unknown template: %d", b.status)
	}
}

func TestCompleteHelper(t *testing.T) {
	e := newEnv(t, Options{})
	if err := e.sb.Complete("inq_nope", true); err == nil {
		t.Errorf("Complete of an unknown inquiry")
	}
	id := e.create(TemplateKYCManualReview, "", nil)
	if err := e.sb.Complete(id, true); err != nil {
		t.Fatal(err)
	}
	if st, ok := e.sb.Inquiry(id); !ok || st != "needs_review" {
		t.Errorf("Inquiry = %q %v", st, ok)
	}
	if err := e.sb.Complete(id, true); err == nil {
		t.Errorf("Complete of a finished inquiry")
	}
	if _, ok := e.sb.Inquiry("inq_nope"); ok {
		t.Errorf("Inquiry of an unknown id")
	}
	if got := e.sb.Templates(); len(got) != 2 || got[0] != (Template{TemplateKYC, "KYC"}) || got[1] != (Template{TemplateKYCManualReview, "KYC with manual review"}) {
		t.Errorf("Templates() = %v", got)
	}
}

// The government ID verification carries what Persona documents for it (name-first, name-last,
// birthdate, identification-number): the sample ALEXANDER J SAMPLE, or the name the person
// typed for the ID, from the hosted flow and from the simulate action alike.
func TestGovernmentIDAttributes(t *testing.T) {
	e := newEnv(t, Options{})
	govID := func(t *testing.T, id string) resp {
		t.Helper()
		r := e.call("GET", "/inquiries/"+id+"?include=", nil)
		for _, v := range r.get("data.relationships.verifications.data").([]any) {
			vid := v.(map[string]any)["id"].(string)
			if rv := e.call("GET", "/verifications/"+vid, nil); rv.str("data.type") == "verification/government-id" {
				return rv
			}
		}
		t.Fatalf("no government ID verification: %s", r.raw)
		return resp{}
	}
	for _, c := range []struct {
		name, first, last   string
		wantFirst, wantLast string
	}{
		{"sample", "", "", "ALEXANDER", "SAMPLE"},
		{"typed", "  Jane ", "Roe", "JANE", "ROE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := e.create(TemplateKYC, "person-"+c.name, map[string]any{"name-first": "Pat", "birthdate": "1990-05-17"})
			b := e.browser()
			b.open("/verify?inquiry-id=" + id)
			b.clickContinue(true, nil)
			if !strings.Contains(b.html, `<label for="id-name-first">First name on the ID</label>`) {
				t.Fatalf("government ID step lacks the name fields:\n%s", b.html)
			}
			b.clickContinue(true, func(v url.Values) { v.Set("id-name-first", c.first); v.Set("id-name-last", c.last) })
			v := govID(t, id)
			if v.str("data.attributes.name-first") != c.wantFirst || v.str("data.attributes.name-last") != c.wantLast ||
				v.str("data.attributes.birthdate") != "1990-05-17" || v.str("data.attributes.identification-number") != "I1234562" {
				t.Errorf("attributes: %s", v.raw)
			}
		})
	}
	t.Run("simulate", func(t *testing.T) {
		id := e.create(TemplateKYC, "person-sim", map[string]any{"birthdate": "1990-05-17"})
		r := e.call("POST", "/inquiries/"+id+"/perform-simulate-actions", map[string]any{"meta": map[string]any{"simulate-actions": []any{
			map[string]any{"type": "create_passed_verification", "data": map[string]any{"verification-template-id": vtmplGovernmentID}}}}})
		mustStatus(t, r, 200)
		v := govID(t, id)
		if v.str("data.attributes.name-first") != "ALEXANDER" || v.str("data.attributes.name-last") != "SAMPLE" ||
			v.str("data.attributes.birthdate") != "1990-05-17" || v.str("data.attributes.identification-number") != "I1234562" {
			t.Errorf("attributes: %s", v.raw)
		}
	})
}
