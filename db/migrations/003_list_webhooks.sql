-- 003: the inquiry list at a million rows, and webhook bookkeeping.

-- Rows per (status, template, creator), kept by triggers, so the list's status counts for
-- those filters never count the table.
CREATE TABLE inquiry_counts (
  status      TEXT NOT NULL,
  template_id TEXT NOT NULL,
  created_by  INTEGER NOT NULL,   -- 0: created outside the console
  n           INTEGER NOT NULL,
  PRIMARY KEY (status, template_id, created_by)
) STRICT, WITHOUT ROWID;
INSERT INTO inquiry_counts (status, template_id, created_by, n)
  SELECT status, template_id, COALESCE(created_by, 0), count(*) FROM inquiries GROUP BY 1, 2, 3;

CREATE TRIGGER inquiries_count_insert AFTER INSERT ON inquiries BEGIN
  INSERT INTO inquiry_counts (status, template_id, created_by, n)
    VALUES (NEW.status, NEW.template_id, COALESCE(NEW.created_by, 0), 1)
    ON CONFLICT (status, template_id, created_by) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER inquiries_count_update AFTER UPDATE OF status, template_id, created_by ON inquiries
  WHEN OLD.status IS NOT NEW.status OR OLD.template_id IS NOT NEW.template_id
    OR OLD.created_by IS NOT NEW.created_by
BEGIN
  UPDATE inquiry_counts SET n = n - 1
    WHERE status = OLD.status AND template_id = OLD.template_id AND created_by = COALESCE(OLD.created_by, 0);
  INSERT INTO inquiry_counts (status, template_id, created_by, n)
    VALUES (NEW.status, NEW.template_id, COALESCE(NEW.created_by, 0), 1)
    ON CONFLICT (status, template_id, created_by) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER inquiries_count_delete AFTER DELETE ON inquiries BEGIN
  UPDATE inquiry_counts SET n = n - 1
    WHERE status = OLD.status AND template_id = OLD.template_id AND created_by = COALESCE(OLD.created_by, 0);
END;

-- The list walks one of these in sort order (newest first), driven by the narrowest equality
-- filter; the trailing columns let the other filters be checked inside the index, without
-- reading the row. See db/list.go.
DROP INDEX inquiries_created;
DROP INDEX inquiries_updated;
DROP INDEX inquiries_status_created;
DROP INDEX inquiries_template_created;
DROP INDEX inquiries_creator_created;
CREATE INDEX inquiries_created ON inquiries(created_at DESC, id DESC, updated_at, status);
CREATE INDEX inquiries_updated ON inquiries(updated_at DESC, id DESC, created_at, status);
CREATE INDEX inquiries_status_created ON inquiries(status, created_at DESC, id DESC, updated_at, template_id, created_by);
CREATE INDEX inquiries_status_updated ON inquiries(status, updated_at DESC, id DESC, created_at, template_id, created_by);
CREATE INDEX inquiries_template_created ON inquiries(template_id, created_at DESC, id DESC, updated_at, status, created_by);
CREATE INDEX inquiries_template_updated ON inquiries(template_id, updated_at DESC, id DESC, created_at, status, created_by);
CREATE INDEX inquiries_creator_created ON inquiries(created_by, created_at DESC, id DESC, updated_at, status, template_id);
CREATE INDEX inquiries_creator_updated ON inquiries(created_by, updated_at DESC, id DESC, created_at, status, template_id);

-- Webhook deliveries that never became events (bad signature, stale, malformed) and
-- duplicates, counted for the Webhooks page; the events themselves are in webhook_events.
CREATE TABLE webhook_counters (
  name    TEXT PRIMARY KEY,   -- applied, stale, ignored, duplicate, bad_signature, stale_signature, malformed
  n       INTEGER NOT NULL DEFAULT 0,
  last_at INTEGER NOT NULL DEFAULT 0,
  last_detail TEXT NOT NULL DEFAULT ''
) STRICT;

-- Events stored but not applied yet (a crash between the two): the re-apply pass reads these.
CREATE INDEX webhook_events_pending ON webhook_events(received_at) WHERE verdict = 'received';
