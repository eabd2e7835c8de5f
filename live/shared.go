package live

import (
	"sync"
	"sync/atomic"
)

// Every open list stream hears of every change; streams showing the same filter would each
// count and render the same answer (a viewer's 130 sign-ins made one webhook cost 17.8 s of
// CPU). Shared lets them do it once: the first stream to ask for a key at the current version
// computes it, the others wait for and reuse its answer, and a new version starts afresh.

type shared struct {
	mu      sync.Mutex
	version uint64
	m       map[string]*sharedRun
	runs    atomic.Int64
}

type sharedRun struct {
	done chan struct{}
	b    []byte
	err  error
}

// Shared returns fn's answer for key, computed once for all callers at version v: the hub's
// Version as the caller read it before it read anything fn renders (a row read before a later
// change must not be shared as that change's answer). Callers must give the same answer for the
// same key and version: an answer of the filter, not of the caller. A caller whose shared run
// failed (its stream went away mid-render) computes its own.
func (h *Hub) Shared(v uint64, key string, fn func() ([]byte, error)) ([]byte, error) {
	sh := &h.shared
	sh.mu.Lock()
	if v < sh.version { // a change landed since this caller looked: its answer is its own
		sh.mu.Unlock()
		return fn()
	}
	if v > sh.version || sh.m == nil {
		sh.version, sh.m = v, map[string]*sharedRun{}
	}
	run, ok := sh.m[key]
	if !ok {
		run = &sharedRun{done: make(chan struct{})}
		sh.m[key] = run
	}
	sh.mu.Unlock()
	if !ok {
		sh.runs.Add(1)
		run.b, run.err = fn()
		if run.err != nil { // the next caller runs it again
			sh.mu.Lock()
			if sh.m[key] == run {
				delete(sh.m, key)
			}
			sh.mu.Unlock()
		}
		close(run.done)
		return run.b, run.err
	}
	<-run.done
	if run.err != nil {
		return fn()
	}
	return run.b, nil
}

// SharedRuns counts the answers Shared computed (not those it reused), for tests and stats.
func (h *Hub) SharedRuns() int64 { return h.shared.runs.Load() }
