-- 010: bulk send. A job is one uploaded CSV file; each of its rows carries the idempotency key
-- of its create, stored before any Persona call, so a job resumed after a crash repeats a row
-- with the same key instead of creating its inquiry twice. (IF NOT EXISTS: a test replays the
-- migrations after 008 on an already migrated file.)
CREATE TABLE IF NOT EXISTS bulk_jobs (
  id              INTEGER PRIMARY KEY,
  name            TEXT NOT NULL,    -- the file's name: the batch's label in the list
  template_id     TEXT NOT NULL,
  email           INTEGER NOT NULL, -- email the links
  create_anyway   INTEGER NOT NULL, -- create although the person is already verified
  state           TEXT NOT NULL,    -- running, paused, cancelled, done
  total           INTEGER NOT NULL,
  created_by      INTEGER REFERENCES users(id),
  created_by_name TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  finished_at     INTEGER
) STRICT;

CREATE TABLE IF NOT EXISTS bulk_rows (
  job_id          INTEGER NOT NULL REFERENCES bulk_jobs(id),
  line            INTEGER NOT NULL, -- the row's line in the file (the header is line 1)
  reference_id    TEXT NOT NULL,
  input           TEXT NOT NULL,    -- the row's fields as JSON
  class           TEXT NOT NULL,    -- the check's verdict: ready, invalid, duplicate, open, verified
  idempotency_key TEXT NOT NULL UNIQUE,
  state           TEXT NOT NULL,    -- pending, created, reused, resumed, skipped, failed, cancelled
  detail          TEXT NOT NULL,    -- the outcome in words
  inquiry_id      TEXT,
  link            TEXT NOT NULL DEFAULT '',
  email_id        INTEGER,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  done_at         INTEGER,
  PRIMARY KEY (job_id, line)
) STRICT;
CREATE INDEX IF NOT EXISTS bulk_rows_state ON bulk_rows(job_id, state, next_attempt_at);
CREATE INDEX IF NOT EXISTS bulk_rows_inquiry ON bulk_rows(inquiry_id, job_id);
