package persona

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestGetVerificationDocumentedExample(t *testing.T) {
	var rc recorder
	c := newTestClient(t, rc.handler(func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, docVerification)
	}))
	v, err := c.GetVerification(context.Background(), "ver_ABC123")
	if err != nil {
		t.Fatal(err)
	}
	if p := rc.last(t).Path; p != "/api/v1/verifications/ver_ABC123" {
		t.Errorf("path = %s", p)
	}
	want := Check{Name: "id_expired_detection", Status: "passed", Reasons: []string{}, Requirement: "required"}
	if v.ID != "ver_ABC123" || v.Type != "verification/government-id" || v.Status != "passed" || v.InquiryID != "inq_ABC123" ||
		len(v.Checks) != 1 || !reflect.DeepEqual(v.Checks[0], want) {
		t.Errorf("verification = %+v", v)
	}
	if v.CompletedAt == nil || !v.CompletedAt.Equal(time.Date(2024, 3, 20, 21, 22, 31, 0, time.UTC)) || v.SubmittedAt == nil || v.CreatedAt == nil {
		t.Errorf("timestamps = %v %v %v", v.CreatedAt, v.SubmittedAt, v.CompletedAt)
	}
	if v.Attributes["id-class"] != "dl" || v.Attributes["name-first"] != "JANE" {
		t.Errorf("attributes = %v", v.Attributes)
	}
	// What the ID says, with only the end of the document number.
	f, ok := v.IDFacts()
	if want := (IDFacts{NameFirst: "JANE", NameLast: "DOE", Birthdate: "1990-01-01", NumberEnding: "3ABC"}); !ok || f != want || f.Name() != "JANE DOE" {
		t.Errorf("IDFacts = %+v %v, want %+v", f, ok, want)
	}
}

// Only ID verifications have ID facts, and a short number shows no part of itself.
func TestIDFactsOnlyFromIDs(t *testing.T) {
	if _, ok := (&Verification{Type: "verification/selfie", Attributes: map[string]any{"name-first": "X"}}).IDFacts(); ok {
		t.Error("a selfie has ID facts")
	}
	f, ok := (&Verification{Type: "verification/passport", Attributes: map[string]any{"identification-number": "12345", "name-last": "Roe"}}).IDFacts()
	if !ok || f.NumberEnding != "" || f.NameLast != "Roe" {
		t.Errorf("IDFacts = %+v %v", f, ok)
	}
}

func TestInquiryTemplates(t *testing.T) {
	t.Run("sandbox key refused without a request", func(t *testing.T) {
		var rc recorder
		c := newTestClient(t, rc.handler(okInquiry("x")), func(cfg *Config) { cfg.APIKey = "persona_sandbox_abc" })
		for _, call := range []func() error{
			func() error { _, err := c.ListInquiryTemplates(context.Background()); return err },
			func() error { _, err := c.GetInquiryTemplate(context.Background(), "itmpl_1"); return err },
		} {
			err := call()
			var ae *APIError
			if !errors.As(err, &ae) || !strings.Contains(err.Error(), templatesSandboxMessage) {
				t.Errorf("err = %v", err)
			}
			if Explain(err) != templatesSandboxMessage {
				t.Errorf("Explain = %q", Explain(err))
			}
		}
		if len(rc.all()) != 0 {
			t.Error("a Sandbox key reached the server")
		}
	})
	t.Run("production key lists every page", func(t *testing.T) {
		var rc recorder
		c := newTestClient(t, rc.handler(func(n int, w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("page[after]") == "" {
				writeJSON(w, 200, `{"data":[{"type":"inquiry-template","id":"itmpl_A","attributes":{"name":"KYC","status":"active"},
					"relationships":{"latest-published-version":{"data":{"type":"inquiry-template-version","id":"itmplv_A1"}}}}],
					"links":{"next":"/api/v1/inquiry-templates?page%5Bafter%5D=itmpl_A"}}`)
				return
			}
			writeJSON(w, 200, `{"data":[{"type":"inquiry-template","id":"itmpl_B","attributes":{"name":"KYB","status":"inactive"}}],"links":{"next":null}}`)
		}))
		got, err := c.ListInquiryTemplates(context.Background())
		want := []Template{{ID: "itmpl_A", Name: "KYC", Status: "active", LatestVersionID: "itmplv_A1"}, {ID: "itmpl_B", Name: "KYB", Status: "inactive"}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("templates = %+v, %v", got, err)
		}
	})
	t.Run("404 on the list is mapped", func(t *testing.T) {
		c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 404, `{"errors":[{"title":"Record not found"}]}`)
		})
		// A production key: the 404 is not blamed on Sandbox.
		_, err := c.ListInquiryTemplates(context.Background())
		if x := Explain(err); !IsNotFound(err) || x == templatesSandboxMessage || !strings.Contains(x, "404") || !strings.Contains(x, "a production key") {
			t.Errorf("err = %v / %q", err, x)
		}
		_, err = c.GetInquiryTemplate(context.Background(), "itmpl_missing")
		if x := Explain(err); !IsNotFound(err) || x != "Persona has no inquiry template itmpl_missing for this API key's organisation and environment (a production key). Check the id in Persona's dashboard." {
			t.Errorf("a missing template: %v / %q", err, x)
		}
	})
}
