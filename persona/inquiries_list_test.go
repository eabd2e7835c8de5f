package persona

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestListInquiriesQuery(t *testing.T) {
	var rc recorder
	c := newTestClient(t, rc.handler(func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"data":[{"type":"inquiry","id":"inq_b","attributes":{"status":"created"}}],
			"links":{"prev":null,"next":"/api/v1/inquiries?page%5Bafter%5D=inq_b&page%5Bsize%5D=2"}}`)
	}))
	page, err := c.ListInquiries(context.Background(), ListInquiriesParams{
		ReferenceID: "user+1", AccountID: "act_1", TemplateID: "itmpl_1", Status: "created,pending",
		CreatedAfter:  time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.FixedZone("x", 3600)),
		CreatedBefore: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC),
		PageSize:      500, After: "inq_a",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Inquiries) != 1 || page.Inquiries[0].ID != "inq_b" || page.NextAfter != "inq_b" {
		t.Errorf("page = %+v", page)
	}
	q := rc.last(t)
	vals, err := url.ParseQuery(q.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for k := range vals {
		got[k] = vals.Get(k)
	}
	want := map[string]string{
		"filter[reference-id]":        "user+1",
		"filter[account-id]":          "act_1",
		"filter[inquiry-template-id]": "itmpl_1",
		"filter[status]":              "created,pending",
		"filter[created-at-start]":    "2024-01-02T02:04:05.006Z",
		"filter[created-at-end]":      "2024-02-01T00:00:00.000Z",
		"page[size]":                  "100",
		"page[after]":                 "inq_a",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("query = %v\nwant %v", got, want)
	}
	if !strings.Contains(q.RawQuery, "user%2B1") {
		t.Errorf("+ not escaped: %s", q.RawQuery)
	}
}

// pagedServer serves total inquiries newest first, honouring page[size] and
// page[after], with links.next the way Persona writes it (no filters kept).
func pagedServer(total int, seen *[]string) http.HandlerFunc {
	var mu sync.Mutex
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*seen = append(*seen, r.URL.RawQuery)
		mu.Unlock()
		size, _ := strconv.Atoi(r.URL.Query().Get("page[size]"))
		if size == 0 {
			size = 10
		}
		start := 0
		if after := r.URL.Query().Get("page[after]"); after != "" {
			n, _ := strconv.Atoi(strings.TrimPrefix(after, "inq_"))
			start = n + 1
		}
		var items []string
		for i := start; i < total && len(items) < size; i++ {
			items = append(items, fmt.Sprintf(`{"type":"inquiry","id":"inq_%d","attributes":{"status":"completed"}}`, i))
		}
		next := "null"
		if end := start + len(items); end < total {
			next = fmt.Sprintf(`"/api/v1/inquiries?page%%5Bafter%%5D=inq_%d"`, end-1)
		}
		writeJSON(w, 200, fmt.Sprintf(`{"data":[%s],"links":{"prev":null,"next":%s}}`, strings.Join(items, ","), next))
	}
}

func TestEachInquiry(t *testing.T) {
	var queries []string
	c := newTestClient(t, pagedServer(250, &queries))
	var ids []string
	err := c.EachInquiry(context.Background(), ListInquiriesParams{Status: "pending"}, func(q *Inquiry) error {
		ids = append(ids, q.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 250 || ids[0] != "inq_0" || ids[249] != "inq_249" {
		t.Fatalf("visited %d inquiries (%v ... )", len(ids), ids[:min(3, len(ids))])
	}
	if len(queries) != 3 {
		t.Errorf("made %d requests, want 3 pages of 100", len(queries))
	}
	for _, q := range queries {
		if !strings.Contains(q, "filter%5Bstatus%5D=pending") || !strings.Contains(q, "page%5Bsize%5D=100") {
			t.Errorf("filters or page size lost on a page: %s", q)
		}
	}

	stop := errors.New("stop")
	n := 0
	err = c.EachInquiry(context.Background(), ListInquiriesParams{PageSize: 10}, func(*Inquiry) error {
		if n++; n == 15 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 15 {
		t.Errorf("callback error not returned as is: %v after %d", err, n)
	}
}

func TestEachInquiryRepeatedCursor(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"data":[{"type":"inquiry","id":"inq_x"}],"links":{"next":"/api/v1/inquiries?page%5Bafter%5D=inq_x"}}`)
	})
	err := c.EachInquiry(context.Background(), ListInquiriesParams{}, func(*Inquiry) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "repeated") {
		t.Fatalf("err = %v, want a loop guard", err)
	}
}
