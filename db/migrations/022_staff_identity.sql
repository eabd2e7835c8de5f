-- Staff identity: SSO identities, invitations and password resets; staff emails in the outbox.

-- An OpenID Connect identity is keyed by its issuer and subject, never by email.
CREATE TABLE oidc_identities (
  issuer          TEXT NOT NULL,
  subject         TEXT NOT NULL,
  user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at      INTEGER NOT NULL,
  last_sign_in_at INTEGER NOT NULL,
  PRIMARY KEY (issuer, subject)
) STRICT;
CREATE INDEX oidc_identities_user ON oidc_identities(user_id);

-- Only the SHA-256 of each emailed token is stored; the token itself is only in the email.
CREATE TABLE invitations (
  id          INTEGER PRIMARY KEY,
  token_hash  TEXT NOT NULL UNIQUE,
  email       TEXT NOT NULL COLLATE NOCASE,
  name        TEXT NOT NULL,
  role        TEXT NOT NULL,
  invited_by  INTEGER REFERENCES users(id),
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  accepted_at INTEGER,
  revoked_at  INTEGER,
  user_id     INTEGER REFERENCES users(id)
) STRICT;
CREATE INDEX invitations_email ON invitations(email);

CREATE TABLE password_resets (
  token_hash TEXT PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER
) STRICT;
CREATE INDEX password_resets_user ON password_resets(user_id);

-- The outbox learns a 'staff' kind (invitations, resets), which needs the table rebuilt.
CREATE TABLE outbox_new (
  id              INTEGER PRIMARY KEY,
  inquiry_id      TEXT REFERENCES inquiries(id),
  link_id         INTEGER REFERENCES links(id),
  kind            TEXT NOT NULL DEFAULT 'link' CHECK (kind IN ('link', 'reminder', 'test', 'staff')),
  recipient       TEXT NOT NULL,
  subject         TEXT NOT NULL,
  body_text       TEXT NOT NULL,
  body_html       TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'canceled')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT NOT NULL DEFAULT '',
  message_id      TEXT NOT NULL UNIQUE,
  claimed_at      INTEGER,
  sent_at         INTEGER,
  queued_by       INTEGER REFERENCES users(id),
  queued_at       INTEGER NOT NULL,
  request_key     TEXT
) STRICT;
INSERT INTO outbox_new (id, inquiry_id, link_id, kind, recipient, subject, body_text, body_html, state,
  attempts, next_attempt_at, last_error, message_id, claimed_at, sent_at, queued_by, queued_at, request_key)
  SELECT id, inquiry_id, link_id, kind, recipient, subject, body_text, body_html, state,
  attempts, next_attempt_at, last_error, message_id, claimed_at, sent_at, queued_by, queued_at, request_key
  FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX outbox_inquiry ON outbox(inquiry_id, queued_at);
CREATE UNIQUE INDEX outbox_request_key ON outbox(request_key) WHERE request_key IS NOT NULL;
