package sandbox

import (
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// listAll follows links.next from path and returns the ids in order.
func (e *env) listAll(path string) []string {
	e.t.Helper()
	var ids []string
	for i := 0; path != "" && i < 100; i++ {
		r := e.call("GET", strings.TrimPrefix(path, "/api/v1"), nil)
		mustStatus(e.t, r, 200)
		for _, d := range r.get("data").([]any) {
			ids = append(ids, jpath(d, "id").(string))
		}
		path, _ = r.get("links.next").(string)
	}
	return ids
}

func TestListPagination(t *testing.T) {
	e := newEnv(t, Options{})
	var created []string // oldest first
	for i := range 25 {
		tmpl := TemplateKYC
		if i%5 == 0 {
			tmpl = TemplateKYCManualReview
		}
		ref := ""
		if i == 7 {
			ref = "needle"
		}
		created = append(created, e.create(tmpl, ref, nil))
	}
	newestFirst := make([]string, len(created))
	for i, id := range created {
		newestFirst[len(created)-1-i] = id
	}

	r := e.call("GET", "/inquiries", nil)
	mustStatus(t, r, 200)
	data := r.get("data").([]any)
	if len(data) != 10 {
		t.Fatalf("default page size: %d", len(data))
	}
	for i, d := range data {
		if jpath(d, "id") != newestFirst[i] {
			t.Fatalf("item %d is %v, want %s (newest first)", i, jpath(d, "id"), newestFirst[i])
		}
	}
	if r.get("links.prev") != nil {
		t.Errorf("links.prev on the first page: %v", r.get("links.prev"))
	}
	next := r.str("links.next")
	if next != "/api/v1/inquiries?page%5Bafter%5D="+newestFirst[9] {
		t.Errorf("links.next %q", next)
	}
	if _, ok := r.get("included").([]any); ok {
		t.Errorf("list has included")
	}

	all := e.listAll("/inquiries")
	if strings.Join(all, ",") != strings.Join(newestFirst, ",") {
		t.Errorf("walking links.next: got %d ids, want all 25 newest first", len(all))
	}
	all = e.listAll("/inquiries?page%5Bsize%5D=7")
	if len(all) != 25 {
		t.Errorf("page size 7: %d ids", len(all))
	}

	// Last page: next null; prev goes back.
	r = e.call("GET", "/inquiries?page%5Bsize%5D=10&page%5Bafter%5D="+newestFirst[19], nil)
	if n := len(r.get("data").([]any)); n != 5 || r.get("links.next") != nil {
		t.Errorf("last page: %d items, next %v", n, r.get("links.next"))
	}
	prev := r.str("links.prev")
	if !strings.Contains(prev, "page%5Bbefore%5D="+newestFirst[20]) || !strings.Contains(prev, "page%5Bsize%5D=10") {
		t.Errorf("links.prev %q", prev)
	}
	r = e.call("GET", strings.TrimPrefix(prev, "/api/v1"), nil)
	data = r.get("data").([]any)
	if len(data) != 10 || jpath(data[0], "id") != newestFirst[10] || jpath(data[9], "id") != newestFirst[19] {
		t.Errorf("page[before]: %v", data)
	}
	r = e.call("GET", "/inquiries?page%5Bbefore%5D="+newestFirst[3], nil)
	data = r.get("data").([]any)
	if len(data) != 3 || jpath(data[0], "id") != newestFirst[0] || r.get("links.prev") != nil || r.get("links.next") == nil {
		t.Errorf("page[before] near the start: %d items, prev %v", len(data), r.get("links.prev"))
	}

	r = e.call("GET", "/inquiries?page%5Bsize%5D=100", nil)
	if len(r.get("data").([]any)) != 25 || r.get("links.next") != nil || r.get("links.prev") != nil {
		t.Errorf("page size 100")
	}
	r = e.call("GET", "/inquiries?page%5Bsize%5D=1", nil)
	if len(r.get("data").([]any)) != 1 {
		t.Errorf("page size 1")
	}
	for _, bad := range []string{
		"page%5Bsize%5D=0", "page%5Bsize%5D=101", "page%5Bsize%5D=x",
		"page%5Bafter%5D=inq_nope", "page%5Bafter%5D=" + created[0] + "&page%5Bbefore%5D=" + created[1],
		"include=account", "filter%5Bnote%5D=x&filter%5Bstatus%5D=created", "filter%5Bcolour%5D=red",
		"filter%5Bcreated-at-start%5D=yesterday",
	} {
		r := e.call("GET", "/inquiries?"+bad, nil)
		if r.status != 400 || r.str("errors.0.title") != "Bad Request" {
			t.Errorf("%s: %d %s", bad, r.status, r.raw)
		}
	}
}

// TestListFilters runs in a testing/synctest bubble, so that time passes
// between the inquiries created before and after mid without waiting.
func TestListFilters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newMemEnv(t, Options{})
		a := e.create(TemplateKYC, "alice", nil)
		b := e.create(TemplateKYCManualReview, "bob", nil)
		c := e.create(TemplateKYC, "carol", nil)
		// Virtual time: a second each side of mid, well clear of the
		// sandbox clock's strictly increasing stamps.
		time.Sleep(time.Second)
		mid := time.Now().UTC()
		time.Sleep(time.Second)
		d := e.create(TemplateKYC, "alice", nil)
		e.sb.Complete(c, true)
		e.sb.Complete(b, false)
		e.call("PATCH", "/inquiries/"+a, map[string]any{"data": map[string]any{"attributes": map[string]any{"note": "vip"}}})

		ids := func(q string) string {
			r := e.call("GET", "/inquiries?"+q, nil)
			mustStatus(t, r, 200)
			var out []string
			for _, d := range r.get("data").([]any) {
				out = append(out, jpath(d, "id").(string))
			}
			return strings.Join(out, ",")
		}
		qe := url.QueryEscape
		cases := map[string]string{
			"filter%5Breference-id%5D=alice":                                    d + "," + a,
			"filter%5Bstatus%5D=approved":                                       c,
			"filter%5Bstatus%5D=approved,failed":                                c + "," + b,
			"filter%5Bstatus%5D%5B%5D=approved&filter%5Bstatus%5D%5B%5D=failed": c + "," + b,
			"filter%5Binquiry-template-id%5D=" + TemplateKYCManualReview:        b,
			"filter%5Bcreated-at-start%5D=" + qe(mid.Format(time.RFC3339Nano)):  d,
			"filter%5Bcreated-at-end%5D=" + qe(mid.Format(time.RFC3339Nano)):    c + "," + b + "," + a,
			"filter%5Binquiry-id%5D=" + a + "," + c:                             c + "," + a,
			"filter%5Bnote%5D=vip":                                              a,
			"filter%5Breference-id%5D=nobody":                                   "",
			"filter%5Btemplate-id%5D=tmpl_x":                                    "",
			"filter%5Bstatus%5D=created&filter%5Breference-id%5D=alice":         d + "," + a,
		}
		acct := e.call("GET", "/inquiries/"+a, nil).str("data.relationships.account.data.id")
		cases["filter%5Baccount-id%5D="+acct] = d + "," + a
		for q, want := range cases {
			if got := ids(q); got != want {
				t.Errorf("%s: got %s, want %s", q, got, want)
			}
		}
		// A filtered page's links keep the filter.
		r := e.call("GET", "/inquiries?filter%5Breference-id%5D=alice&page%5Bsize%5D=1", nil)
		if next := r.str("links.next"); !strings.Contains(next, "filter%5Breference-id%5D=alice") {
			t.Errorf("links.next loses the filter: %s", next)
		}
	})
}
