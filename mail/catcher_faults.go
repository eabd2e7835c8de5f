package mail

import (
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// RefuseMode is how the catcher answers the next messages.
type RefuseMode int

const (
	RefuseNone          RefuseMode = iota // accept
	RefuseTemporary                       // 451 4.3.0 at RCPT TO
	RefusePermanent                       // 550 5.1.1 at RCPT TO
	RefuseTemporaryData                   // 451 4.3.0 after the message data
	RefusePermanentData                   // 554 5.6.0 after the message data
)

var refuseNames = []string{"none", "temporary", "permanent", "temporary-data", "permanent-data"}

func (m RefuseMode) String() string {
	if m >= 0 && int(m) < len(refuseNames) {
		return refuseNames[m]
	}
	return "unknown"
}

// ParseRefuseMode reads a mode by its String form (for the dev page's knob).
func ParseRefuseMode(s string) (RefuseMode, error) {
	for i, n := range refuseNames {
		if strings.EqualFold(s, n) {
			return RefuseMode(i), nil
		}
	}
	return RefuseNone, fmt.Errorf("mail: unknown refuse mode %q (known: %s)", s, strings.Join(refuseNames, ", "))
}

// The catcher's refusals, as a real server words them.
var (
	replyTemporary     = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Requested action aborted: try again later"}
	replyPermanent     = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable"}
	replyPermanentData = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message content rejected"}
)

// SetRefuse sets how every following message is answered (RefuseNone to accept again), and
// cancels a pending SetRefuseFor.
func (c *Catcher) SetRefuse(mode RefuseMode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refuse, c.refuseN = mode, 0
}

// SetRefuseFor refuses the next n messages with mode; after them the SetRefuse mode applies
// again (accepting, unless set otherwise).
func (c *Catcher) SetRefuseFor(n int, mode RefuseMode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refuseN, c.refuseFor = n, mode
}

// SetDropMidSend makes the catcher drop the connection in the middle of the data of the next n
// messages, without answering: the client sees the connection lost and nothing is accepted.
func (c *Catcher) SetDropMidSend(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop = n
}

// SetHoldData makes the catcher hold the next n messages: it reads each one's data but neither
// stores nor answers it until the client hangs up, then discards it, as a real server discards
// an unfinished transaction. The client is left waiting for the reply to its data: the moment
// after which a message is either accepted or not, never half. 0 holds no more (messages
// already held stay held until their client hangs up).
func (c *Catcher) SetHoldData(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.holdData = max(n, 0)
}

// DataHeld is how many messages are being held right now by SetHoldData, their clients
// waiting for an answer.
func (c *Catcher) DataHeld() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dataHeld
}

func (c *Catcher) takeHoldData() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holdData > 0 {
		c.holdData--
		return true
	}
	return false
}

// holdUntilClosed waits, without answering, until the client closes conn (or Close does).
func (c *Catcher) holdUntilClosed(conn net.Conn) {
	c.mu.Lock()
	c.dataHeld++
	c.mu.Unlock()
	conn.SetReadDeadline(time.Time{}) // held for as long as the client waits, not ReadTimeout
	io.Copy(io.Discard, conn)         // a client awaiting its reply sends nothing: this ends at EOF
	conn.Close()
	c.mu.Lock()
	c.dataHeld--
	c.mu.Unlock()
}

// Knobs reports the current settings, for the dev page.
func (c *Catcher) Knobs() (refuse RefuseMode, refuseNext int, refuseNextMode RefuseMode, dropNext int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refuse, c.refuseN, c.refuseFor, c.drop
}

// takeRefusal decides how the message now starting is answered, using up one SetRefuseFor.
func (c *Catcher) takeRefusal() RefuseMode {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refuseN > 0 {
		c.refuseN--
		return c.refuseFor
	}
	return c.refuse
}

func (c *Catcher) takeDrop() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.drop > 0 {
		c.drop--
		return true
	}
	return false
}
