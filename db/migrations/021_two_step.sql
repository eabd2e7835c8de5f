-- Sessions are stored by the SHA-256 of their id: the cookie carries the id, the table only its
-- hash, so a copy of the database (a backup) holds nothing a cookie could be made from. Rows
-- from before hold bare ids and are dropped: everyone signs in again once.
DELETE FROM sessions;
-- Which browser a session is, for the list on "Your account".
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';

-- Two-step sign-in (TOTP, RFC 6238): the secret once confirmed, a secret being set up, and the
-- last time step a code was accepted for (a code is refused at or before it: no replay).
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_pending TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- Recovery codes, stored as the SHA-256 of the code (each has 50 random bits); used_at is set
-- when one is spent, so it works once.
CREATE TABLE recovery_codes (
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  hash    TEXT NOT NULL,
  used_at INTEGER,
  PRIMARY KEY (user_id, hash)
) STRICT;
