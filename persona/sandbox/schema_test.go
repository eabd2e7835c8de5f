package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// The sandbox's answers are checked against Persona's own OpenAPI description of the version
// the request asked for (../shared/persona-openapi, from Persona's public persona-openapi
// repository): the schema of the operation's documented answer for that status.

// openapiPath finds version's document in shared/persona-openapi beside the repository (or
// any folder above it), or in $PERSONA_OPENAPI_DIR; the test is skipped where it is not.
func openapiPath(version string) string {
	if dir := os.Getenv("PERSONA_OPENAPI_DIR"); dir != "" {
		return filepath.Join(dir, version+".yaml")
	}
	dir, _ := filepath.Abs(".")
	for {
		p := filepath.Join(dir, "shared", "persona-openapi", version+".yaml")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		up := filepath.Dir(dir)
		if up == dir {
			return p
		}
		dir = up
	}
}

type openapiDoc struct {
	name string
	doc  map[string]any
	c    *jsonschema.Compiler
	url  string
}

var (
	openapiMu   sync.Mutex
	openapiDocs = map[string]*openapiDoc{}
)

func loadOpenAPI(t *testing.T, version string) *openapiDoc {
	t.Helper()
	openapiMu.Lock()
	defer openapiMu.Unlock()
	if d := openapiDocs[version]; d != nil {
		return d
	}
	path := openapiPath(version)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("Persona's OpenAPI document for %s is not here (%v)", version, err)
	}
	var y any
	if err := yaml.Unmarshal(raw, &y); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	j, err := json.Marshal(y)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	url := "file:///persona-" + version + ".json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	d := &openapiDoc{name: version, doc: doc.(map[string]any), c: c, url: url}
	openapiDocs[version] = d
	return d
}

func ptrEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// responseSchema finds the schema of the documented answer to method path (the OpenAPI
// path template, e.g. /inquiries/{inquiry-id}) with this status, following a $ref to a
// shared response.
func (d *openapiDoc) responseSchema(method, path string, status int) (*jsonschema.Schema, error) {
	paths, _ := d.doc["paths"].(map[string]any)
	op, _ := paths[path].(map[string]any)
	op, _ = op[strings.ToLower(method)].(map[string]any)
	if op == nil {
		return nil, fmt.Errorf("%s %s is not in the %s document", method, path, d.name)
	}
	responses, _ := op["responses"].(map[string]any)
	code := strconv.Itoa(status)
	r, ok := responses[code].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s %s documents no %d answer", method, path, status)
	}
	loc := "#/paths/" + ptrEscape(path) + "/" + strings.ToLower(method) + "/responses/" + code
	if ref, ok := r["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/responses/")
		r, _ = d.doc["components"].(map[string]any)["responses"].(map[string]any)[name].(map[string]any)
		loc = "#/components/responses/" + ptrEscape(name)
	}
	content, _ := r["content"].(map[string]any)
	if _, ok := content["application/json"]; !ok {
		return nil, fmt.Errorf("%s %s %d documents no JSON body", method, path, status)
	}
	return d.c.Compile(d.url + loc + "/content/application~1json/schema")
}

// schemaTally counts answers that validate, per version.
type schemaTally struct {
	valid, total int
	failures     []string
}

func (st *schemaTally) check(t *testing.T, d *openapiDoc, method, path string, r resp) {
	t.Helper()
	st.total++
	sch, err := d.responseSchema(method, path, r.status)
	if err != nil {
		st.failures = append(st.failures, err.Error())
		return
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.raw))
	if err != nil {
		st.failures = append(st.failures, fmt.Sprintf("%s %s %d: %v", method, path, r.status, err))
		return
	}
	if err := sch.Validate(inst); err != nil {
		msg := err.Error()
		if len(msg) > 600 {
			msg = msg[:600] + "…"
		}
		st.failures = append(st.failures, fmt.Sprintf("%s %s %d: %s", method, path, r.status, msg))
		return
	}
	st.valid++
}

// TestAnswersMatchOpenAPI sends every call the console makes (and the errors it meets) on
// each version and validates each answer against that version's official document.
func TestAnswersMatchOpenAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("loads three 2 MB documents")
	}
	for _, version := range []string{"2023-01-05", "2025-10-27", "2025-12-08"} {
		t.Run(version, func(t *testing.T) {
			d := loadOpenAPI(t, version)
			e := newEnv(t, Options{})
			var st schemaTally
			h := []string{"Persona-Version", version}
			call := func(method, path, tmpl string, body any) resp {
				t.Helper()
				r := e.call(method, path, body, h...)
				st.check(t, d, method, tmpl, r)
				return r
			}
			created := call("POST", "/inquiries", "/inquiries", map[string]any{
				"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": TemplateKYC,
					"fields": map[string]any{"name_first": "Alexander", "name_last": "Sample", "birthdate": "1977-08-31", "email_address": "a@example.com"}}},
				"meta": map[string]any{"auto-create-account-reference-id": "usr_1"}})
			id := created.str("data.id")
			one := "/inquiries/{inquiry-id}"
			call("GET", "/inquiries/"+id, one, nil)
			call("GET", "/inquiries/"+id+"?include=inquiry-template", one, nil)
			call("GET", "/inquiries?filter[reference-id]=usr_1&page[size]=10", "/inquiries", nil)
			call("PATCH", "/inquiries/"+id, one, map[string]any{"data": map[string]any{"attributes": map[string]any{"note": "n", "fields": map[string]any{"name_middle": "J"}}}})
			call("POST", "/inquiries/"+id+"/generate-one-time-link", one+"/generate-one-time-link", nil)
			b := e.browser()
			b.open("/verify?inquiry-id=" + id)
			walk(t, b, true)
			got := e.call("GET", "/inquiries/"+id+"?include=verifications", nil, h...)
			for _, v := range got.get("data.relationships.verifications.data").([]any) {
				ref := v.(map[string]any)
				switch ref["type"] {
				case "verification/government-id":
					call("GET", "/verification/government-ids/"+ref["id"].(string), "/verification/government-ids/{verification-id}", nil)
				case "verification/selfie":
					call("GET", "/verification/selfies/"+ref["id"].(string), "/verification/selfies/{verification-id}", nil)
				}
			}
			for _, s := range got.get("data.relationships.sessions.data").([]any) {
				call("GET", "/inquiry-sessions/"+s.(map[string]any)["id"].(string), "/inquiry-sessions/{inquiry-session-id}", nil)
			}
			if acct, ok := got.get("data.relationships.account.data.id").(string); ok {
				call("GET", "/accounts/"+acct, "/accounts/{account-id}", nil)
			}
			call("POST", "/inquiries/"+id+"/approve", one+"/approve", nil)
			second := e.create(TemplateKYC, "usr_2", nil)
			call("POST", "/inquiries/"+second+"/resume", one+"/resume", nil)
			call("POST", "/inquiries/"+second+"/expire", one+"/expire", nil)
			call("POST", "/inquiries/"+second+"/decline", one+"/decline", nil)
			call("DELETE", "/inquiries/"+second, one, nil)
			call("GET", "/inquiries/inq_doesnotexist1", one, nil)
			call("DELETE", "/inquiries/"+second, one, nil) // redacted already: 409
			unauth := e.call("GET", "/inquiries/"+id, nil, append(h, "Authorization", "Bearer persona_sandbox_wrong")...)
			st.check(t, d, "GET", one, unauth)
			call("POST", "/inquiries", "/inquiries", map[string]any{"data": map[string]any{"attributes": map[string]any{}}})
			call("POST", "/inquiries", "/inquiries", map[string]any{"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": TemplateKYC, "fields": map[string]any{"birthdate": "31/08/1977"}}}})
			call("POST", "/inquiries", "/inquiries", map[string]any{"data": map[string]any{"attributes": map[string]any{"inquiry-template-id": "itmpl_doesnotexist1"}}})
			call("GET", "/webhooks", "/webhooks", nil)
			t.Logf("%s: %d of %d answers match the official document", version, st.valid, st.total)
			for _, f := range st.failures {
				t.Log(f)
			}
			if os.Getenv("SCHEMA_REPORT") == "" && st.valid != st.total {
				t.Errorf("%d of %d answers do not match Persona's %s document", st.total-st.valid, st.total, version)
			}
		})
	}
}

// webhookSchema is the schema of event name's body in the document's webhooks section.
func (d *openapiDoc) webhookSchema(name string) (*jsonschema.Schema, error) {
	hooks, _ := d.doc["webhooks"].(map[string]any)
	if _, ok := hooks[name]; !ok {
		return nil, fmt.Errorf("event %s is not in the %s document", name, d.name)
	}
	return d.c.Compile(d.url + "#/webhooks/" + ptrEscape(name) + "/post/requestBody/content/application~1json/schema")
}

// TestWebhooksMatchOpenAPI: the sandbox's webhook bodies, with the webhook on each version,
// validate against that version's official description of the event.
func TestWebhooksMatchOpenAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("loads three 2 MB documents")
	}
	for _, version := range Versions {
		t.Run(version, func(t *testing.T) {
			d := loadOpenAPI(t, version)
			rc := newReceiver(t, func(int) int { return 200 })
			e := newEnv(t, Options{WebhookURL: rc.srv.URL, WebhookSecret: "wbhsec_schema", WebhookVersion: version})
			id := e.create(TemplateKYC, "usr_schema", map[string]any{"name-first": "Alexander", "email-address": "a@example.com"})
			b := e.browser()
			b.open("/verify?inquiry-id=" + id)
			walk(t, b, true)
			e.call("DELETE", "/inquiries/"+id, nil)
			e.waitSettled()
			valid, total := 0, 0
			for _, h := range rc.all() {
				name := eventName(t, h)
				total++
				sch, err := d.webhookSchema(name)
				if err == nil {
					var inst any
					if inst, err = jsonschema.UnmarshalJSON(bytes.NewReader(h.body)); err == nil {
						err = sch.Validate(inst)
					}
				}
				if err != nil {
					msg := err.Error()
					if len(msg) > 600 {
						msg = msg[:600] + "…"
					}
					t.Logf("%s: %s", name, msg)
					continue
				}
				valid++
			}
			t.Logf("%s: %d of %d webhook bodies match the official document", version, valid, total)
			if os.Getenv("SCHEMA_REPORT") == "" && (valid != total || total == 0) {
				t.Errorf("%d of %d webhook bodies do not match Persona's %s document", total-valid, total, version)
			}
		})
	}
}
