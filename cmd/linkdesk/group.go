package main

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// group runs the console's background loops (outbox worker, reminders, reconciler, webhook
// drainer, session expiry) under one context. The shutdown signal does not cancel it: requests
// still being served may queue emails or webhook events, so serve stops it only after the HTTP
// server, and closes the database only after it has stopped.
type group struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	log    *slog.Logger
}

func newGroup(ctx context.Context, log *slog.Logger) *group {
	g := &group{log: log}
	g.ctx, g.cancel = context.WithCancel(context.WithoutCancel(ctx))
	return g
}

// Go runs f in the group.
func (g *group) Go(f func()) { g.wg.Go(f) }

// Loop runs f with the group's context.
func (g *group) Loop(f func(context.Context)) { g.wg.Go(func() { f(g.ctx) }) }

// stop cancels the loops and waits for them, at most within: an email being sent is let
// finish, but a relay that never answers does not hold the process forever.
func (g *group) stop(within time.Duration) {
	g.cancel()
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(within):
		g.log.Warn("background work did not stop in time; an email mid-send is sent again at the next start")
	}
}
