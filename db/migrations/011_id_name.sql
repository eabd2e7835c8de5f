-- 011: keep the name staff typed. Persona's name attributes become the name read from the ID
-- once the person completes the flow; the console keeps the first name it cached in `name`
-- and stores a later, different one in `id_name` (see UpsertInquiry). Search covers both.
ALTER TABLE inquiries ADD COLUMN id_name TEXT NOT NULL DEFAULT '' COLLATE NOCASE;

-- Both names go into the index's name column (existing rows have no id_name yet, so the index
-- built by 008 stays right and needs no rebuild).
DROP VIEW inquiries_fts_source;
CREATE VIEW inquiries_fts_source AS
  SELECT rowid, '  ' || reference_id AS reference_id,
    '  ' || replace(trim(name || ' ' || id_name), ' ', '  ') AS name, '  ' || email AS email FROM inquiries;

DROP TRIGGER inquiries_fts_insert;
CREATE TRIGGER inquiries_fts_insert AFTER INSERT ON inquiries BEGIN
  INSERT INTO inquiries_fts (rowid, reference_id, name, email)
    VALUES (NEW.rowid, '  ' || NEW.reference_id, '  ' || replace(trim(NEW.name || ' ' || NEW.id_name), ' ', '  '), '  ' || NEW.email);
END;
DROP TRIGGER inquiries_fts_update;
CREATE TRIGGER inquiries_fts_update AFTER UPDATE OF reference_id, name, id_name, email ON inquiries
  WHEN OLD.reference_id IS NOT NEW.reference_id OR OLD.name IS NOT NEW.name
    OR OLD.id_name IS NOT NEW.id_name OR OLD.email IS NOT NEW.email
BEGIN
  DELETE FROM inquiries_fts WHERE rowid = OLD.rowid;
  INSERT INTO inquiries_fts (rowid, reference_id, name, email)
    VALUES (NEW.rowid, '  ' || NEW.reference_id, '  ' || replace(trim(NEW.name || ' ' || NEW.id_name), ' ', '  '), '  ' || NEW.email);
END;
