-- 031: search folds the letters that do not decompose (db/fold.go: ø, æ, ð, ł, ß...), in Go, as
-- the SQL function linkdesk_fold, for the index here and for every query. Only the rows whose
-- text it changes are indexed again.
DROP VIEW inquiries_fts_source;
CREATE VIEW inquiries_fts_source AS
  SELECT rowid, linkdesk_fold('  ' || reference_id) AS reference_id,
    linkdesk_fold('  ' || replace(trim(name || ' ' || id_name), ' ', '  ')) AS name,
    linkdesk_fold('  ' || email) AS email FROM inquiries;

DROP TRIGGER inquiries_fts_insert;
CREATE TRIGGER inquiries_fts_insert AFTER INSERT ON inquiries BEGIN
  INSERT INTO inquiries_fts (rowid, reference_id, name, email)
    SELECT * FROM inquiries_fts_source WHERE rowid = NEW.rowid;
END;
DROP TRIGGER inquiries_fts_update;
CREATE TRIGGER inquiries_fts_update AFTER UPDATE OF reference_id, name, id_name, email ON inquiries
  WHEN OLD.reference_id IS NOT NEW.reference_id OR OLD.name IS NOT NEW.name
    OR OLD.id_name IS NOT NEW.id_name OR OLD.email IS NOT NEW.email
BEGIN
  DELETE FROM inquiries_fts WHERE rowid = OLD.rowid;
  INSERT INTO inquiries_fts (rowid, reference_id, name, email)
    SELECT * FROM inquiries_fts_source WHERE rowid = NEW.rowid;
END;

CREATE TEMP TABLE fold_again AS SELECT rowid AS r FROM inquiries
  WHERE linkdesk_fold(reference_id || name || id_name || email) <> reference_id || name || id_name || email;
DELETE FROM inquiries_fts WHERE rowid IN (SELECT r FROM fold_again);
INSERT INTO inquiries_fts (rowid, reference_id, name, email)
  SELECT * FROM inquiries_fts_source WHERE rowid IN (SELECT r FROM fold_again);
DROP TABLE fold_again;
