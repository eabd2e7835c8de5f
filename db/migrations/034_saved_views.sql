-- 034: saved views of the inquiry list (casework package): the list's filters, search and sort
-- under a name, for their owner or shared with the team.
CREATE TABLE saved_views (
  id         INTEGER PRIMARY KEY,
  owner_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name       TEXT NOT NULL,
  query      TEXT NOT NULL,              -- the list's query string, cursors left out
  shared     INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  UNIQUE (owner_id, name)
) STRICT;
CREATE INDEX saved_views_shared ON saved_views(shared) WHERE shared = 1;
