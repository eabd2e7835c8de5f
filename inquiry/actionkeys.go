package inquiry

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"

	"github.com/linkdesk/linkdesk/persona"
)

// Every action Linkdesk POSTs to Persona (approve, decline, expire, resume, one-time link)
// carries an Idempotency-Key stored in action_keys before the call, so the client may retry it
// on 429 and 5xx, and a retry after a crash, a timeout or a double submit reuses the key and is
// applied once.

// keyedAction runs fn, a Persona action on inquiry id, under the stored key for (id, action,
// requestKey). requestKey is the form's key; without one it is derived from the parameters,
// so the same action with the same parameters reuses an unsettled key. Calls with the same key
// run one at a time (Persona answers a key in flight with 409).
func (s *Service) keyedAction(ctx context.Context, id, action, requestKey, params string, fn func(context.Context) error) error {
	formKey := requestKey != ""
	if !formKey {
		sum := sha256.Sum256([]byte(params))
		requestKey = "params:" + hex.EncodeToString(sum[:8])
	}
	unlock := s.keyLocks.Lock(id + "\x00" + action + "\x00" + requestKey)
	defer unlock()
	key, err := s.db.ActionKey(ctx, id, action, requestKey, "ld_"+rand.Text())
	if err != nil {
		return err
	}
	err = fn(persona.WithIdempotencyKey(ctx, key))
	// A form's key stays for Persona's 24 h so a resubmitted form replays the first answer; a
	// derived key is settled by success or a definitive refusal, after which the next action
	// of that kind is a new one. Unavailable, throttled or abandoned calls keep the key.
	if (err == nil && !formKey) || persona.IsRefused(err) {
		if derr := s.db.DropActionKey(context.WithoutCancel(ctx), id, action, requestKey); derr != nil {
			s.log.Warn("drop action key", "inquiry", id, "action", action, "err", derr)
		}
	}
	return err
}
