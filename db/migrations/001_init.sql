-- Times are unix milliseconds (UTC) throughout.

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  email         TEXT NOT NULL COLLATE NOCASE UNIQUE,
  name          TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('admin', 'agent', 'viewer')),
  password_hash TEXT NOT NULL,
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;

-- Server-side sessions: the cookie carries only the id, so deleting rows revokes at once.
CREATE TABLE sessions (
  id           TEXT PRIMARY KEY,
  user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE audit_log (
  id      INTEGER PRIMARY KEY,
  at      INTEGER NOT NULL,
  user_id INTEGER REFERENCES users(id),
  actor   TEXT NOT NULL DEFAULT '',   -- name at the time, kept if the user is renamed
  action  TEXT NOT NULL,              -- e.g. inquiry.create, link.issue, user.disable
  target  TEXT NOT NULL DEFAULT '',   -- inquiry id, user email, setting key
  outcome TEXT NOT NULL DEFAULT 'ok', -- ok, or the error in words
  detail  TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_at ON audit_log(at);
CREATE INDEX audit_target ON audit_log(target, at);
CREATE INDEX audit_action ON audit_log(action, at);

CREATE TABLE templates (
  id            TEXT PRIMARY KEY,           -- itmpl_ / itmplv_
  name          TEXT NOT NULL,
  is_default    INTEGER NOT NULL DEFAULT 0,
  reminder_days TEXT NOT NULL DEFAULT '',   -- e.g. "1,3": days after the first email
  created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE inquiries (
  id           TEXT PRIMARY KEY,                          -- inq_
  reference_id TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  template_id  TEXT NOT NULL DEFAULT '',
  status       TEXT NOT NULL,
  name         TEXT NOT NULL DEFAULT '' COLLATE NOCASE,   -- first middle last, for list and search
  email        TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
  fields       TEXT NOT NULL DEFAULT '{}',                -- JSON {key: value}
  note         TEXT NOT NULL DEFAULT '',
  tags         TEXT NOT NULL DEFAULT '[]',                -- JSON array
  created_at   INTEGER NOT NULL,                          -- Persona's timestamps
  updated_at   INTEGER NOT NULL,
  started_at   INTEGER,
  completed_at INTEGER,
  failed_at    INTEGER,
  decided_at   INTEGER,
  expired_at   INTEGER,
  redacted_at  INTEGER,
  expires_at   INTEGER,
  version_at   INTEGER NOT NULL DEFAULT 0,  -- newest event created-at / updated-at applied: stale updates lose
  synced_at    INTEGER NOT NULL,
  created_by   INTEGER REFERENCES users(id)
) STRICT;
CREATE INDEX inquiries_created ON inquiries(created_at DESC, id DESC);
CREATE INDEX inquiries_updated ON inquiries(updated_at DESC, id DESC);
CREATE INDEX inquiries_status_created ON inquiries(status, created_at DESC, id DESC);
CREATE INDEX inquiries_template_created ON inquiries(template_id, created_at DESC, id DESC);
CREATE INDEX inquiries_creator_created ON inquiries(created_by, created_at DESC, id DESC);
CREATE INDEX inquiries_reference ON inquiries(reference_id);
CREATE INDEX inquiries_name ON inquiries(name);
CREATE INDEX inquiries_email ON inquiries(email);
CREATE INDEX inquiries_expires ON inquiries(expires_at) WHERE status IN ('created', 'pending');

-- Create requests: the idempotency key is stored before Persona is called, so a retry after a
-- crash or a double click sends the same key and Persona replays the first answer.
CREATE TABLE inquiry_requests (
  idempotency_key TEXT PRIMARY KEY,
  reference_id    TEXT NOT NULL,
  template_id     TEXT NOT NULL,
  params          TEXT NOT NULL,   -- JSON of what was sent
  sent_at         INTEGER,         -- set just before Persona is called with the key
  inquiry_id      TEXT,            -- set once Persona answered and the row was saved
  created_by      INTEGER REFERENCES users(id),
  created_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE links (
  id          INTEGER PRIMARY KEY,
  inquiry_id  TEXT REFERENCES inquiries(id),   -- NULL for template links
  kind        TEXT NOT NULL CHECK (kind IN ('inquiry', 'resume', 'one-time', 'template')),
  url         TEXT NOT NULL,
  expires_at  INTEGER,
  issued_by   INTEGER REFERENCES users(id),
  issued_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX links_inquiry ON links(inquiry_id, issued_at);

CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  inquiry_id      TEXT REFERENCES inquiries(id),
  link_id         INTEGER REFERENCES links(id),
  kind            TEXT NOT NULL DEFAULT 'link' CHECK (kind IN ('link', 'reminder', 'test')),
  recipient       TEXT NOT NULL,
  subject         TEXT NOT NULL,
  body_text       TEXT NOT NULL,
  body_html       TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'canceled')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT NOT NULL DEFAULT '',
  message_id      TEXT NOT NULL UNIQUE,   -- fixed at queue time, so a retry reuses it
  claimed_at      INTEGER,
  sent_at         INTEGER,
  queued_by       INTEGER REFERENCES users(id),
  queued_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX outbox_inquiry ON outbox(inquiry_id, queued_at);

CREATE TABLE webhook_events (
  id          TEXT PRIMARY KEY,             -- Persona's evt_ id: a duplicate delivery stops here
  name        TEXT NOT NULL,
  inquiry_id  TEXT NOT NULL DEFAULT '',
  event_at    INTEGER NOT NULL,             -- the event's created-at
  received_at INTEGER NOT NULL,
  verdict     TEXT NOT NULL,                -- received, applied, stale, ignored
  payload     TEXT NOT NULL
) STRICT;
CREATE INDEX webhook_events_received ON webhook_events(received_at);
CREATE INDEX webhook_events_inquiry ON webhook_events(inquiry_id, event_at);
