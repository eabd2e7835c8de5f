package handlers

import (
	"sync"
	"time"
)

// --- sign-in throttling ---
//
// Failures are counted per client address and per account. Each gets LoginLimit free failures;
// after that every further attempt must wait twice as long as the one before it (loginBase, then
// 2x, 4x... up to loginCap), counted from the last failure, and a count is forgotten after
// loginForget without failures.
//
// An account's back-off applies only to addresses that have themselves failed on that account.
// Someone guessing from elsewhere therefore cannot lock the owner out (the owner's address has
// not failed on it and gets straight through), while a guesser is slowed twice: by their own
// address's back-off, and, on every address that already guessed wrong, by the account's. An
// attack spread over many addresses gets one unthrottled guess per fresh address, no more. A
// correct password clears the account's count but not the address's, so signing in to one's own
// account does not buy more guesses at someone else's.

const (
	loginBase    = 30 * time.Second
	loginCap     = 15 * time.Minute
	loginForget  = time.Hour
	maxAcctAddrs = 1000 // addresses remembered per account; the oldest go first
)

type backoff struct {
	fails int
	last  time.Time
	addrs map[string]time.Time // accounts only: the addresses that failed on it
}

type loginLimiter struct {
	mu    sync.Mutex
	free  int
	ips   map[string]*backoff
	accts map[string]*backoff
	now   func() time.Time
}

func newLoginLimiter(free int) *loginLimiter {
	return &loginLimiter{free: free, ips: map[string]*backoff{}, accts: map[string]*backoff{}, now: time.Now}
}

// setClock replaces the clock (tests).
func (l *loginLimiter) setClock(now func() time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.now = now
}

// liveCount returns key's live count, dropping a forgotten one.
func liveCount(m map[string]*backoff, key string, now time.Time) *backoff {
	b := m[key]
	if b != nil && now.Sub(b.last) >= loginForget {
		delete(m, key)
		return nil
	}
	return b
}

// wait is how long b still holds off the next attempt.
func (l *loginLimiter) wait(b *backoff, now time.Time) time.Duration {
	if b == nil || b.fails < l.free {
		return 0
	}
	d := min(loginBase<<min(b.fails-l.free, 16), loginCap)
	return max(0, b.last.Add(d).Sub(now))
}

// blocked returns how long the caller must wait, or 0.
func (l *loginLimiter) blocked(ip, account string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	wait := l.wait(liveCount(l.ips, ip, now), now)
	if a := liveCount(l.accts, account, now); a != nil {
		if _, failedHere := a.addrs[ip]; failedHere {
			wait = max(wait, l.wait(a, now))
		}
	}
	return wait
}

func (l *loginLimiter) fail(ip, account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	// Counts are pruned when used again; a sweep now and then drops those never seen again, so
	// a stream of made-up emails cannot grow the maps without bound.
	if len(l.ips)+len(l.accts) > 10000 {
		for _, m := range []map[string]*backoff{l.ips, l.accts} {
			for k := range m {
				liveCount(m, k, now)
			}
		}
	}
	b := liveCount(l.ips, ip, now)
	if b == nil {
		b = &backoff{}
		l.ips[ip] = b
	}
	b.fails, b.last = b.fails+1, now
	a := liveCount(l.accts, account, now)
	if a == nil {
		a = &backoff{addrs: map[string]time.Time{}}
		l.accts[account] = a
	}
	a.fails, a.last = a.fails+1, now
	a.addrs[ip] = now
	if len(a.addrs) > maxAcctAddrs {
		oldest := ip
		for k, t := range a.addrs {
			if t.Before(a.addrs[oldest]) {
				oldest = k
			}
		}
		delete(a.addrs, oldest)
	}
}

// succeeded clears the account's count after a correct password.
func (l *loginLimiter) succeeded(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.accts, account)
}
