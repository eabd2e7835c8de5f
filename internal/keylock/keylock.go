// Package keylock serialises work per key (a form's idempotency key, a stored action key).
package keylock

import "sync"

// Map holds one lock per key in use; entries go away when nobody holds or waits for them.
// The zero value is ready.
type Map struct {
	mu sync.Mutex
	m  map[string]*entry
}

type entry struct {
	sync.Mutex
	users int
}

// Lock waits for key's lock and returns its unlock.
func (k *Map) Lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*entry{}
	}
	l := k.m[key]
	if l == nil {
		l = &entry{}
		k.m[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
