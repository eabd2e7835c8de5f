package mail

import (
	"net"
	"strings"
	"sync"
	"time"
)

// SetQuitDelay makes the catcher wait d before it answers QUIT (the 221 that ends a
// conversation, after the message was accepted), like a server that is slow to let go; a d
// longer than the client's timeout is a server that hangs on QUIT. 0 answers at once again and
// lets every QUIT being held go. Only connections without TLS are held.
func (c *Catcher) SetQuitDelay(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.quitDelay = d
	close(c.quitRelease)
	c.quitRelease = make(chan struct{})
}

// QuitsHeld is how many conversations are waiting, right now, for the answer to their QUIT.
func (c *Catcher) QuitsHeld() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.quitsHeld
}

// holdQuit waits out the QUIT delay, or until SetQuitDelay changes it or the connection closes.
func (c *Catcher) holdQuit(closed <-chan struct{}) {
	c.mu.Lock()
	d, release := c.quitDelay, c.quitRelease
	if d <= 0 {
		c.mu.Unlock()
		return
	}
	c.quitsHeld++
	c.mu.Unlock()
	t := time.NewTimer(d)
	select {
	case <-t.C:
	case <-release:
	case <-closed:
	}
	t.Stop()
	c.mu.Lock()
	c.quitsHeld--
	c.mu.Unlock()
}

// quitListener hands out connections that hold a client's QUIT before go-smtp reads it (go-smtp
// answers QUIT itself, with no hook for the session).
type quitListener struct {
	net.Listener
	c *Catcher
}

func (l *quitListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &quitConn{Conn: conn, c: l.c, lineStart: true, closed: make(chan struct{})}, nil
}

type quitConn struct {
	net.Conn
	c         *Catcher
	lineStart bool // the next byte read starts a line
	closeOnce sync.Once
	closed    chan struct{}
}

// Read passes a chunk that starts a line with QUIT on only after the QUIT delay. Clients send
// QUIT on its own once the message is done, so looking at the start of a chunk is enough.
func (q *quitConn) Read(p []byte) (int, error) {
	n, err := q.Conn.Read(p)
	if n > 0 {
		if q.lineStart && n >= 4 && strings.EqualFold(string(p[:4]), "QUIT") {
			q.c.holdQuit(q.closed)
		}
		q.lineStart = p[n-1] == '\n'
	}
	return n, err
}

func (q *quitConn) Close() error {
	q.closeOnce.Do(func() { close(q.closed) })
	return q.Conn.Close()
}
