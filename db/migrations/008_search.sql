-- 008: search that finds people. A trigram full-text index over each inquiry's reference ID,
-- name and email (accents and case folded), kept in step by triggers so every writer keeps it
-- current. See db/search.go for how a search becomes a MATCH expression.
--
-- Contentless (the text lives in inquiries; contentless_delete lets the triggers delete by
-- rowid). The indexed text is the column with two spaces before each word, so a term of one or
-- two characters, which trigrams cannot find, is searched as "  a" / " ab": the start of the
-- reference ID, of the email or of any word of the name.
CREATE VIRTUAL TABLE inquiries_fts USING fts5(reference_id, name, email,
  content='', contentless_delete=1, tokenize='trigram remove_diacritics 1');

-- What is indexed for each inquiry: the backfill and the bench seeder read it.
CREATE VIEW inquiries_fts_source AS
  SELECT rowid, '  ' || reference_id AS reference_id, '  ' || replace(name, ' ', '  ') AS name,
    '  ' || email AS email FROM inquiries;

INSERT INTO inquiries_fts (rowid, reference_id, name, email) SELECT * FROM inquiries_fts_source;

CREATE TRIGGER inquiries_fts_insert AFTER INSERT ON inquiries BEGIN
  INSERT INTO inquiries_fts (rowid, reference_id, name, email)
    VALUES (NEW.rowid, '  ' || NEW.reference_id, '  ' || replace(NEW.name, ' ', '  '), '  ' || NEW.email);
END;
-- Only when a searched column changed: a webhook's upsert rewrites every column.
CREATE TRIGGER inquiries_fts_update AFTER UPDATE OF reference_id, name, email ON inquiries
  WHEN OLD.reference_id IS NOT NEW.reference_id OR OLD.name IS NOT NEW.name OR OLD.email IS NOT NEW.email
BEGIN
  DELETE FROM inquiries_fts WHERE rowid = OLD.rowid;
  INSERT INTO inquiries_fts (rowid, reference_id, name, email)
    VALUES (NEW.rowid, '  ' || NEW.reference_id, '  ' || replace(NEW.name, ' ', '  '), '  ' || NEW.email);
END;
CREATE TRIGGER inquiries_fts_delete AFTER DELETE ON inquiries BEGIN
  DELETE FROM inquiries_fts WHERE rowid = OLD.rowid;
END;
