-- 033: who works on an inquiry (casework package), and whether a staff member wants an email
-- when an inquiry is assigned to them.
CREATE TABLE assignments (
  inquiry_id  TEXT PRIMARY KEY REFERENCES inquiries(id),
  user_id     INTEGER NOT NULL REFERENCES users(id),
  assigned_by INTEGER REFERENCES users(id),
  assigned_at INTEGER NOT NULL
) STRICT;
CREATE INDEX assignments_user ON assignments(user_id, inquiry_id);

CREATE TABLE user_prefs (
  user_id       INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  assign_email  INTEGER NOT NULL DEFAULT 0
) STRICT;
