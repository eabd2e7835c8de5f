package sandbox

import (
	"bytes"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"strings"
	"time"
)

// knobsJSON is the admin endpoint's view of Knobs (latency as a Go duration
// string, e.g. "250ms"; a number is read as milliseconds).
type knobsJSON struct {
	ErrorRate          float64 `json:"error-rate"`
	RateLimitPerMinute int     `json:"rate-limit-per-minute"`
	Latency            string  `json:"latency"`
	DuplicateWebhooks  bool    `json:"duplicate-webhooks"`
	OutOfOrderWebhooks bool    `json:"out-of-order-webhooks"`
	DropWebhooks       float64 `json:"drop-webhooks"`
	StuckCursor        bool    `json:"stuck-cursor"`
	Throttle           int     `json:"throttle"`
	HoldAnswers        int     `json:"hold-answers"`
}

func toKnobsJSON(k Knobs) knobsJSON {
	return knobsJSON{k.ErrorRate, k.RateLimitPerMinute, k.Latency.String(), k.DuplicateWebhooks, k.OutOfOrderWebhooks, k.DropWebhooks, k.StuckCursor, k.Throttle, k.HoldAnswers}
}

func adminJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func adminError(w http.ResponseWriter, status int, msg string) {
	adminJSON(w, status, map[string]any{"errors": []apiError{{Title: http.StatusText(status), Details: msg}}})
}

// serveAdmin answers /_sandbox/...: knobs, stats, webhook target and an index page.
func (s *Sandbox) serveAdmin(w http.ResponseWriter, r *http.Request) {
	switch strings.TrimSuffix(r.URL.Path, "/") {
	case "", "/_sandbox":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			adminError(w, http.StatusMethodNotAllowed, "use GET")
			return
		}
		s.adminIndex(w, r)
	case "/_sandbox/knobs":
		s.adminKnobs(w, r)
	case "/_sandbox/stats":
		adminJSON(w, http.StatusOK, s.Stats())
	case "/_sandbox/webhook":
		s.adminWebhook(w, r)
	default:
		adminError(w, http.StatusNotFound, "no such sandbox admin path")
	}
}

func (s *Sandbox) adminKnobs(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		adminJSON(w, http.StatusOK, toKnobsJSON(s.Knobs()))
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			adminError(w, http.StatusBadRequest, "cannot read body")
			return
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil {
			adminError(w, http.StatusBadRequest, "body must be a JSON object")
			return
		}
		k := s.Knobs()
		if r.Method == http.MethodPut {
			k = Knobs{}
		}
		for key, v := range raw {
			var err error
			switch kebab(key) {
			case "error-rate":
				err = json.Unmarshal(v, &k.ErrorRate)
			case "rate-limit-per-minute":
				err = json.Unmarshal(v, &k.RateLimitPerMinute)
			case "latency":
				k.Latency, err = parseLatency(v)
			case "duplicate-webhooks":
				err = json.Unmarshal(v, &k.DuplicateWebhooks)
			case "out-of-order-webhooks":
				err = json.Unmarshal(v, &k.OutOfOrderWebhooks)
			case "drop-webhooks":
				err = json.Unmarshal(v, &k.DropWebhooks)
			case "stuck-cursor":
				err = json.Unmarshal(v, &k.StuckCursor)
			case "throttle":
				err = json.Unmarshal(v, &k.Throttle)
			case "hold-answers":
				err = json.Unmarshal(v, &k.HoldAnswers)
			default:
				adminError(w, http.StatusBadRequest, "unknown knob "+key)
				return
			}
			if err != nil {
				adminError(w, http.StatusBadRequest, "bad value for "+key+": "+err.Error())
				return
			}
		}
		s.SetKnobs(k)
		adminJSON(w, http.StatusOK, toKnobsJSON(s.Knobs()))
	default:
		adminError(w, http.StatusMethodNotAllowed, "use GET or POST")
	}
}

func parseLatency(v json.RawMessage) (time.Duration, error) {
	var str string
	if json.Unmarshal(v, &str) == nil {
		return time.ParseDuration(str)
	}
	var ms float64
	if err := json.Unmarshal(v, &ms); err != nil {
		return 0, err
	}
	return time.Duration(ms * float64(time.Millisecond)), nil
}

func (s *Sandbox) adminWebhook(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		u, secrets := s.webhookTarget()
		adminJSON(w, http.StatusOK, map[string]any{"url": u, "secret-set": secrets[0] != ""})
	case http.MethodPost, http.MethodPut:
		var in struct {
			URL    string `json:"url"`
			Secret string `json:"secret"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil {
			adminError(w, http.StatusBadRequest, "body must be {\"url\": ..., \"secret\": ...}")
			return
		}
		s.SetWebhook(in.URL, in.Secret)
		adminJSON(w, http.StatusOK, map[string]any{"url": in.URL, "secret-set": in.Secret != ""})
	default:
		adminError(w, http.StatusMethodNotAllowed, "use GET or POST")
	}
}

var indexTemplate = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Persona sandbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:0 auto;padding:0 1rem}
.banner{background:#ffe08a;border:2px solid #b38600;padding:.6rem 1rem;margin-top:1rem}
code{background:#f2f2f2;padding:0 .2rem}td,th{text-align:left;padding:.3rem .6rem .3rem 0}</style></head>
<body>
<div class="banner" role="note"><strong>Persona sandbox — no real verification</strong></div>
<main>
<h1>Persona sandbox</h1>
<p>API base URL: <code>{{.Base}}/api/v1</code> · environment <code>{{.Env}}</code></p>
<h2>Inquiry templates</h2>
<table>
<thead><tr><th scope="col">Name</th><th scope="col">Template ID</th><th scope="col">Try it</th></tr></thead>
<tbody>{{range .Templates}}<tr><td>{{.Name}}</td><td><code>{{.ID}}</code></td>
<td><a href="/verify?inquiry-template-id={{.ID}}&amp;environment-id={{$.Env}}">Start a new {{.Name}} inquiry</a></td></tr>{{end}}</tbody>
</table>
<h2>Admin</h2>
<ul>
<li><a href="/_sandbox/knobs">Fault-injection knobs</a> (JSON; POST to change)</li>
<li><a href="/_sandbox/stats">Counters</a> (JSON)</li>
<li><a href="/_sandbox/webhook">Webhook target</a> (JSON; POST {"url","secret"} to change)</li>
</ul>
</main>
</body></html>
`))

func (s *Sandbox) adminIndex(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	err := indexTemplate.Execute(&b, map[string]any{
		"Base": s.baseURL(r), "Env": EnvironmentID, "Templates": s.Templates(),
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}
