package persona

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestDecodeInquiryTolerance(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantErr string
		check   func(t *testing.T, q *Inquiry)
	}{
		{
			name: "legacy template, empty-object relationships, unknown everything",
			doc: `{"data":{"type":"inquiry","id":"inq_1","attributes":{"status":"started","future-attr":{"x":[1]},
				"created-at":"yesterday","updated-at":null,"tags":"not-a-list","note":42},
				"relationships":{"template":{"data":{"type":"template","id":"tmpl_L"}},"inquiry-template":{"data":{}},
				"verifications":{"data":null},"sessions":{},"brand-new":{"data":[{"type":"x","id":"y"}]}}},
				"included":[{"type":"mystery","id":"m1"}]}`,
			check: func(t *testing.T, q *Inquiry) {
				if q.Status != "started" || q.TemplateID != "tmpl_L" || q.CreatedAt != nil || q.UpdatedAt != nil ||
					q.Tags != nil || q.Note != "" || q.VerificationIDs != nil || q.SessionIDs != nil {
					t.Errorf("inquiry = %+v", q)
				}
			},
		},
		{
			name: "template version as the last resort",
			doc:  `{"data":{"type":"inquiry","id":"inq_1","relationships":{"inquiry-template-version":{"data":{"type":"inquiry-template-version","id":"itmplv_V"}}}}}`,
			check: func(t *testing.T, q *Inquiry) {
				if q.TemplateID != "itmplv_V" || q.TemplateVersionID != "itmplv_V" || q.Attributes != nil {
					t.Errorf("inquiry = %+v", q)
				}
			},
		},
		{
			name: "2025-10-27 shape: fields only, snake keys, odd values",
			doc: `{"data":{"type":"inquiry","id":"inq_1","attributes":{"fields":{
				"name_first":{"type":"string","value":"Ann"},"age":{"type":"number","value":12345678901234567890},
				"ok":{"type":"boolean","value":true},"plain":"x","file":{"filename":"a.png","byte_size":3},
				"multi":{"type":"multi_choices","value":["a","b"]}}}}}`,
			check: func(t *testing.T, q *Inquiry) {
				got := map[string]string{}
				for _, k := range []string{"name_first", "age", "ok", "plain", "file", "multi", "name-first"} {
					got[k] = q.Field(k)
				}
				want := map[string]string{"name_first": "Ann", "age": "12345678901234567890", "ok": "true", "plain": "x",
					"file": `{"byte_size":3,"filename":"a.png"}`, "multi": `["a","b"]`, "name-first": "Ann"}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("fields = %v\nwant %v", got, want)
				}
			},
		},
		{
			name: "flattened fallback and Name",
			doc: `{"data":{"type":"inquiry","id":"inq_1","attributes":{"name-first":" Alexander ","name-middle":"J",
				"name-last":"Sample","fields":{"name-first":{"type":"string","value":null}}}}}`,
			check: func(t *testing.T, q *Inquiry) {
				if q.Name() != "Alexander J Sample" || q.Field("name-last") != "Sample" {
					t.Errorf("Name() = %q", q.Name())
				}
			},
		},
		{name: "not an inquiry", doc: `{"data":{"type":"account","id":"act_1"}}`, wantErr: "not an inquiry"},
		{name: "no id", doc: `{"data":{"type":"inquiry"}}`, wantErr: "no id"},
		{name: "no data", doc: `{"errors":[]}`, wantErr: "no data"},
		{name: "list where one is expected", doc: `{"data":[]}`, wantErr: "decode inquiry"},
		{name: "attributes not an object", doc: `{"data":{"type":"inquiry","id":"inq_1","attributes":[1]}}`, wantErr: "attributes"},
		{name: "not JSON", doc: `{`, wantErr: "decode inquiry"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := DecodeInquiry([]byte(tc.doc))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, q)
		})
	}
}

func TestFieldOnHandBuiltInquiry(t *testing.T) {
	q := &Inquiry{
		Fields:     map[string]FieldValue{"name-first": {Type: "string", Value: "Jo"}},
		Attributes: json.RawMessage(`{"name-last":"Ng","birthdate":"2000-01-02"}`),
	}
	var wg sync.WaitGroup
	for range 4 { // Field must not mutate q: concurrent readers are fine
		wg.Add(1)
		go func() {
			defer wg.Done()
			if q.Name() != "Jo Ng" || q.Field("birthdate") != "2000-01-02" {
				t.Errorf("Name() = %q", q.Name())
			}
		}()
	}
	wg.Wait()
	var nilQ *Inquiry
	if nilQ.Field("x") != "" {
		t.Error("nil inquiry")
	}
}

func TestKebabKey(t *testing.T) {
	for in, want := range map[string]string{
		"name-first": "name-first", "name_first": "name-first", "nameFirst": "name-first",
		"address_street_1": "address-street-1", "addressStreet1": "address-street-1", "address-street-1": "address-street-1",
		"emailAddress": "email-address", "reference_id": "reference-id", "selfie2": "selfie2", "status": "status",
		"inquiry_template": "inquiry-template", "inquiryTemplateVersion": "inquiry-template-version",
	} {
		if got := kebabKey(in); got != want {
			t.Errorf("kebabKey(%q) = %q, want %q", in, got, want)
		}
	}
}
