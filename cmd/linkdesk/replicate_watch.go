package main

import (
	"context"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/linkdesk/linkdesk/handlers"
)

// replicaBehindAfter is how long the replica may trail the database before serve warns and
// /readyz fails: Litestream ships each second, so a minute means it cannot.
const replicaBehindAfter = time.Minute

// watchState is what the watch loop last saw.
type watchState struct {
	mu        sync.Mutex
	lastOK    time.Time // the replica last held everything Litestream had taken from the WAL
	lastErr   string
	warned    bool
	startedAt time.Time
}

// watch compares the database's replicated position with the replica's each second until ctx
// ends, and warns in the log once while the replica falls behind.
func (rp *replica) watch(ctx context.Context, log *slog.Logger) {
	rp.state.mu.Lock()
	rp.state.startedAt = time.Now()
	rp.state.mu.Unlock()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		local, err := rp.db.Pos()
		now := time.Now()
		rp.state.mu.Lock()
		switch {
		case err != nil:
			rp.state.lastErr = err.Error()
		case rp.db.Replica.Pos().TXID >= local.TXID:
			if rp.state.warned {
				log.Info("replication: the replica caught up", "replica", rp.to)
			}
			rp.state.lastOK, rp.state.lastErr, rp.state.warned = now, "", false
		}
		if behind := now.Sub(rp.since()); behind > replicaBehindAfter && !rp.state.warned {
			rp.state.warned = true
			log.Warn("replication: the replica is falling behind", "replica", rp.to, "behind", behind.Round(time.Second), "err", rp.state.lastErr)
		}
		rp.state.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// since is when the replica was last known in step (or the start); call with state.mu held.
func (rp *replica) since() time.Time {
	if rp.state.lastOK.IsZero() {
		return rp.state.startedAt
	}
	return rp.state.lastOK
}

// status is rp as handlers.Replication: nil when not replicating.
func (rp *replica) status() handlers.Replication {
	if rp == nil {
		return nil
	}
	return rp
}

// Status is the replication's state for /readyz, the Webhooks page and /metrics.
func (rp *replica) Status() handlers.ReplicationStatus {
	rp.state.mu.Lock()
	defer rp.state.mu.Unlock()
	lag := time.Since(rp.since())
	if rp.state.lastOK.Equal(rp.since()) && time.Since(rp.state.lastOK) < 2*time.Second {
		lag = 0 // in step at the last look
	}
	return handlers.ReplicationStatus{Target: displayURL(rp.to), LastOK: rp.state.lastOK, Lag: lag,
		Failing: lag > replicaBehindAfter, LastError: rp.state.lastErr}
}

// displayURL is a replica URL fit to show: scheme, host and path, no user or query.
func displayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unreadable URL)"
	}
	return u.Scheme + "://" + u.Host + u.Path
}
