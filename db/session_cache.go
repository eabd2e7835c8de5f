package db

import (
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
)

// sessionCache keeps SessionUser's answers, which every request asks for, from one change of
// the users or sessions tables to the next: a query costs about as much as sending the list
// page from its cache.
//
// The writer connection's pre-update hook bumps gen on every row the users or sessions tables
// change (by any statement, cascades included), while that statement holds the only writer
// connection. A miss is read through that same connection, so it sees the tables either
// before a change, and its answer is outdated by the bump, or after the change has committed:
// never an answer the bump has already passed. Another process writing the same file fires no
// hook here, so an answer is also read again after sessionTTL.
type sessionCache struct {
	gen atomic.Uint64
	now func() time.Time // tests move it

	mu sync.Mutex
	at uint64 // the gen the entries were read under
	m  map[string]sessionEntry
}

type sessionEntry struct {
	s    Session
	u    User
	read time.Time
}

const (
	sessionTTL        = 5 * time.Second
	maxSessionEntries = 10_000 // far more than a staff signs in; a full map starts again
)

func (c *sessionCache) get(key string) (sessionEntry, bool) {
	if c == nil {
		return sessionEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || c.at != c.gen.Load() || c.now().Sub(e.read) >= sessionTTL {
		return sessionEntry{}, false
	}
	return e, true
}

// put keeps e, read under gen, unless a change has outdated it already.
func (c *sessionCache) put(key string, gen uint64, e sessionEntry) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen.Load() {
		return
	}
	if c.at != gen || c.m == nil || len(c.m) >= maxSessionEntries {
		c.m, c.at = map[string]sessionEntry{}, gen
	}
	e.read = c.now()
	c.m[key] = e
}

// generation is the gen to read a miss under.
func (c *sessionCache) generation() uint64 {
	if c == nil {
		return 0
	}
	return c.gen.Load()
}

func (c *sessionCache) changed(u sqlite.SQLitePreUpdateData) {
	if u.TableName == "users" || u.TableName == "sessions" {
		c.gen.Add(1)
	}
}
