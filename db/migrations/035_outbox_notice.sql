-- 035: the outbox also carries notices to staff ('notice': an inquiry was assigned to them),
-- which belong to no inquiry's email log. SQLite cannot change a CHECK in place: the table is
-- rebuilt with the same columns, rows and indexes (nothing references it).
CREATE TABLE outbox_new (
  id              INTEGER PRIMARY KEY,
  inquiry_id      TEXT REFERENCES inquiries(id),
  link_id         INTEGER REFERENCES links(id),
  kind            TEXT NOT NULL DEFAULT 'link' CHECK (kind IN ('link', 'reminder', 'test', 'staff', 'notice')),
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
  request_key     TEXT,
  recipient_basis TEXT NOT NULL DEFAULT ''
) STRICT;
INSERT INTO outbox_new (id, inquiry_id, link_id, kind, recipient, subject, body_text, body_html, state, attempts,
    next_attempt_at, last_error, message_id, claimed_at, sent_at, queued_by, queued_at, request_key, recipient_basis)
  SELECT id, inquiry_id, link_id, kind, recipient, subject, body_text, body_html, state, attempts,
    next_attempt_at, last_error, message_id, claimed_at, sent_at, queued_by, queued_at, request_key, recipient_basis FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX outbox_inquiry ON outbox(inquiry_id, queued_at);
CREATE UNIQUE INDEX outbox_request_key ON outbox(request_key) WHERE request_key IS NOT NULL;
