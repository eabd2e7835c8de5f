package handlers

import (
	"bytes"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/linkdesk/linkdesk/views"
)

// listCache keeps what the list page would otherwise rebuild on every view: the filter's
// options (templates, staff) for a few seconds, and rendered pages until any inquiry changes.
type listCache struct {
	mu      sync.Mutex
	version func() uint64 // the live hub's count of changes to inquiries (webhook, refresh, sync, staff action)
	optAt   time.Time
	tmpls   []views.Option
	staff   []views.Option
	pages   map[string]cachedPage
	noPage  bool // benchmarks measure the work itself
}

type cachedPage struct {
	gen  uint64
	at   time.Time
	body []byte
	gz   []byte // body gzipped, once a client that accepts it asked
}

const (
	optionsTTL = 10 * time.Second
	// pageTTL bounds what a page can miss that no change notice covers (a staff member or
	// template renamed); relative times are covered by keying on the minute.
	pageTTL  = 30 * time.Second
	maxPages = 64
)

func (c *listCache) page(key string) ([]byte, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.pages[key]
	gen := c.version()
	if !ok || c.noPage || p.gen != gen || time.Since(p.at) > pageTTL {
		return nil, gen, false
	}
	return p.body, gen, true
}

func (c *listCache) store(key string, gen uint64, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.noPage || gen != c.version() {
		return
	}
	if c.pages == nil || len(c.pages) >= maxPages {
		c.pages = map[string]cachedPage{}
	}
	c.pages[key] = cachedPage{gen: gen, at: time.Now(), body: bytes.Clone(body)} // body's buffer is reused
}

// write sends a cached page, compressed once for all the clients that accept gzip.
func (c *listCache) write(w http.ResponseWriter, r *http.Request, key string, body []byte) {
	if !acceptsGzip(r) {
		writePage(w, http.StatusOK, body)
		return
	}
	c.mu.Lock()
	gz := c.pages[key].gz
	c.mu.Unlock()
	if gz == nil {
		gz = gzipBytes(body)
		c.mu.Lock()
		if p, ok := c.pages[key]; ok && len(body) > 0 && &p.body[0] == &body[0] { // still the page compressed
			p.gz = gz
			c.pages[key] = p
		}
		c.mu.Unlock()
	}
	w.Header().Set("Content-Encoding", "gzip") // compress passes it on as it is
	writePage(w, http.StatusOK, gz)
}

// listOptions returns the Template and Created by choices.
func (s *Server) listOptions(r *http.Request) (tmpls, staff []views.Option, err error) {
	c := &s.listCache
	c.mu.Lock()
	if time.Since(c.optAt) < optionsTTL {
		tmpls, staff = c.tmpls, c.staff
		c.mu.Unlock()
		return tmpls, staff, nil
	}
	c.mu.Unlock()
	if tmpls, _, err = s.templateOptions(r); err != nil {
		return nil, nil, err
	}
	users, err := s.db.ListUsers(r.Context())
	if err != nil {
		return nil, nil, err
	}
	for _, u := range users {
		staff = append(staff, views.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Name})
	}
	c.mu.Lock()
	c.tmpls, c.staff, c.optAt = tmpls, staff, time.Now()
	c.mu.Unlock()
	return tmpls, staff, nil
}
