package mail

import (
	"encoding/json"
	"fmt"
	"github.com/linkdesk/linkdesk/internal/durable"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A catcher with a folder (StartCatcherDir, `linkdesk mailcatcher --dir`) keeps every message
// it accepts as a file there, written and fsynced before it answers 250 to the message's data,
// as a real SMTP server takes responsibility for a message only once it is on disk. It reads
// them back when it starts, so its messages and IDs survive a restart or a kill -9.

// storedMessage is one message's file: the envelope and the raw message as received.
type storedMessage struct {
	ID       int       `json:"id"`
	From     string    `json:"from"`
	To       []string  `json:"to"`
	AuthUser string    `json:"auth_user,omitempty"`
	TLS      bool      `json:"tls,omitempty"`
	Received time.Time `json:"received"`
	Raw      []byte    `json:"raw"`
}

func storedName(id int) string { return fmt.Sprintf("%08d.json", id) }

// StartCatcherDir is StartCatcher keeping the messages in dir (created if missing), with the
// ones already there loaded first.
func StartCatcherDir(addr, dir string) (*Catcher, error) { return startCatcherDir(addr, dir, nil) }

func startCatcherDir(addr, dir string, logger *slog.Logger) (*Catcher, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail: catcher: %w", err)
	}
	msgs, err := ReadCaught(dir)
	if err != nil {
		return nil, err
	}
	c, err := startCatcher(addr, logger, nil, false)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.dir = dir
	for _, m := range msgs {
		c.total = max(c.total, m.ID)
	}
	if len(msgs) > maxKept {
		msgs = msgs[len(msgs)-maxKept:]
	}
	c.msgs = msgs
	c.mu.Unlock()
	return c, nil
}

// ReadCaught reads the messages a catcher kept in dir, oldest first.
func ReadCaught(dir string) ([]Caught, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("mail: catcher: %w", err)
	}
	var out []Caught
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue // among others, the temporary file of a write cut short
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("mail: catcher: %w", err)
		}
		var sm storedMessage
		if err := json.Unmarshal(b, &sm); err != nil {
			return nil, fmt.Errorf("mail: catcher: %s is not a caught message: %w", e.Name(), err)
		}
		m := parseCaught(sm.Raw)
		m.ID, m.From, m.To, m.AuthUser, m.TLS, m.Received = sm.ID, sm.From, sm.To, sm.AuthUser, sm.TLS, sm.Received
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Caught) int { return a.ID - b.ID })
	return out, nil
}

// store writes m, numbered id, durably into the catcher's folder.
func (c *Catcher) store(id int, m Caught) error {
	b, err := json.Marshal(storedMessage{ID: id, From: m.From, To: m.To, AuthUser: m.AuthUser, TLS: m.TLS, Received: m.Received, Raw: m.Raw})
	if err != nil {
		return err
	}
	return durable.WriteFile(filepath.Join(c.dir, storedName(id)), b)
}
