package main

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestGroupStopWaits: stop returns only after every loop saw its context end and every
// function started with Go (the webhook drainer) returned, so the database closes after them.
// The shutdown signal alone does not cancel the loops.
func TestGroupStopWaits(t *testing.T) {
	sig, cancelSig := context.WithCancel(context.Background())
	g := newGroup(sig, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var loopDone, drainDone atomic.Bool
	started := make(chan struct{})
	g.Loop(func(ctx context.Context) { close(started); <-ctx.Done(); loopDone.Store(true) })
	release := make(chan struct{})
	g.Go(func() { <-release; drainDone.Store(true) })
	<-started

	cancelSig() // the signal: requests still being served may need the loops
	if g.ctx.Err() != nil {
		t.Fatal("the shutdown signal canceled the loops before the HTTP server stopped")
	}
	stopped := make(chan struct{})
	go func() { g.stop(time.Minute); close(stopped) }()
	<-g.ctx.Done() // stop has canceled the loops; the drainer still holds on
	for !loopDone.Load() {
		runtime.Gosched()
	}
	select {
	case <-stopped:
		t.Fatal("stop returned while the drainer was still running")
	default:
	}
	close(release)
	<-stopped
	if !loopDone.Load() || !drainDone.Load() {
		t.Fatalf("stop returned with the loop done %v, the drainer done %v", loopDone.Load(), drainDone.Load())
	}
}
