-- 017: what changed, for the search's copy of each inquiry's keys (db/search_keys.go). A
-- search reads the status and sort keys of each of its matches; the console keeps those in
-- memory and, before it uses them, reads the inquiries logged here since it last looked. Every
-- writer (webhooks, sync, bulk, the UI, another process) goes through these triggers, so the
-- copy cannot fall behind. The log keeps its last 100,000 entries; a copy further behind
-- reloads.
CREATE TABLE inquiry_key_changes (
  seq  INTEGER PRIMARY KEY AUTOINCREMENT,
  r    INTEGER NOT NULL,           -- the inquiry's rowid
  text INTEGER NOT NULL DEFAULT 0  -- 1: its searched text changed (a broad search's sample may be stale)
) STRICT;

CREATE TRIGGER inquiry_keys_insert AFTER INSERT ON inquiries BEGIN
  INSERT INTO inquiry_key_changes (r) VALUES (NEW.rowid);
  DELETE FROM inquiry_key_changes WHERE seq <= last_insert_rowid() - 100000;
END;
CREATE TRIGGER inquiry_keys_update AFTER UPDATE OF status, created_at, updated_at, template_id, created_by ON inquiries
  WHEN OLD.status IS NOT NEW.status OR OLD.created_at IS NOT NEW.created_at OR OLD.updated_at IS NOT NEW.updated_at
    OR OLD.template_id IS NOT NEW.template_id OR OLD.created_by IS NOT NEW.created_by
BEGIN
  INSERT INTO inquiry_key_changes (r) VALUES (NEW.rowid);
  DELETE FROM inquiry_key_changes WHERE seq <= last_insert_rowid() - 100000;
END;
CREATE TRIGGER inquiry_keys_delete AFTER DELETE ON inquiries BEGIN
  INSERT INTO inquiry_key_changes (r) VALUES (OLD.rowid);
  DELETE FROM inquiry_key_changes WHERE seq <= last_insert_rowid() - 100000;
END;
CREATE TRIGGER inquiry_keys_text AFTER UPDATE OF reference_id, name, id_name, email ON inquiries
  WHEN OLD.reference_id IS NOT NEW.reference_id OR OLD.name IS NOT NEW.name OR OLD.id_name IS NOT NEW.id_name
    OR OLD.email IS NOT NEW.email
BEGIN
  INSERT INTO inquiry_key_changes (r, text) VALUES (NEW.rowid, 1);
  DELETE FROM inquiry_key_changes WHERE seq <= last_insert_rowid() - 100000;
END;
