-- Idempotency keys of Persona's inquiry actions (approve, decline, expire, resume, one-time
-- link), stored before the call so a retry, a double submit or a restart after a crash sends
-- the same key again and Persona applies the action once.
CREATE TABLE action_keys (
	inquiry_id      TEXT NOT NULL,
	action          TEXT NOT NULL,
	request_key     TEXT NOT NULL, -- the form's key, or one derived from the parameters
	idempotency_key TEXT NOT NULL UNIQUE,
	created_at      INTEGER NOT NULL, -- unix ms; keys past Persona's 24 h window are dropped
	PRIMARY KEY (inquiry_id, action, request_key)
) STRICT;
CREATE INDEX action_keys_created ON action_keys(created_at);
