package mail

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// The standalone catcher's admin listener (`linkdesk mailcatcher --http`), for tests that run
// the catcher as its own process: the hold-data knob, and what it caught and holds.

// catcherKnobs is the admin view of the knobs it can set.
type catcherKnobs struct {
	HoldData int `json:"hold-data"` // messages still to hold (SetHoldData)
}

// CatcherStats is the admin listener's GET /stats.
type CatcherStats struct {
	Caught int `json:"caught"` // messages accepted since the first start (Count)
	Held   int `json:"held"`   // messages being held right now (DataHeld)
}

// AdminHandler serves POST /knobs ({"hold-data": N}; GET shows them) and GET /stats.
func (c *Catcher) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		adminReply(w, http.StatusOK, CatcherStats{Caught: c.Count(), Held: c.DataHeld()})
	})
	mux.HandleFunc("GET /knobs", func(w http.ResponseWriter, r *http.Request) {
		adminReply(w, http.StatusOK, c.adminKnobs())
	})
	mux.HandleFunc("POST /knobs", func(w http.ResponseWriter, r *http.Request) {
		dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
		dec.DisallowUnknownFields()
		var k struct {
			HoldData *int `json:"hold-data"`
		}
		if err := dec.Decode(&k); err != nil {
			adminReply(w, http.StatusBadRequest, map[string]string{"error": `the body must be a JSON object like {"hold-data": 1}: ` + err.Error()})
			return
		}
		if k.HoldData != nil {
			if *k.HoldData < 0 {
				adminReply(w, http.StatusBadRequest, map[string]string{"error": "hold-data must not be negative"})
				return
			}
			c.SetHoldData(*k.HoldData)
		}
		adminReply(w, http.StatusOK, c.adminKnobs())
	})
	return mux
}

func (c *Catcher) adminKnobs() catcherKnobs {
	c.mu.Lock()
	defer c.mu.Unlock()
	return catcherKnobs{HoldData: c.holdData}
}

func adminReply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// listenAdmin listens for the admin listener on addr, which must be a loopback address: the
// knobs let anyone who reaches them stall mail.
func listenAdmin(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mail: catcher admin: %w", err)
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("mail: catcher admin: %s is not a loopback address (use 127.0.0.1:PORT)", addr)
	}
	return ln, nil
}

func serveAdmin(c *Catcher, ln net.Listener) *http.Server {
	srv := &http.Server{Handler: c.AdminHandler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return srv
}
