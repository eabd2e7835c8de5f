-- 032: notes, a thread of staff remarks on each inquiry (casework package). A note's text is
-- searched with the inquiry: it joins the search index's name column, so the list's search box
-- finds an inquiry by a word of any of its notes the same way it finds a word of the name.
CREATE TABLE inquiry_notes (
  id         INTEGER PRIMARY KEY,
  inquiry_id TEXT NOT NULL REFERENCES inquiries(id),
  author_id  INTEGER REFERENCES users(id),
  author     TEXT NOT NULL,             -- name at the time, kept if the user is renamed
  body       TEXT NOT NULL,             -- plain text, shown escaped
  created_at INTEGER NOT NULL,
  edited_at  INTEGER
) STRICT;
CREATE INDEX inquiry_notes_inquiry ON inquiry_notes(inquiry_id, created_at);

-- The name column of the index: the names, then every note's words (line breaks as spaces, so
-- each word gets the two spaces a one- or two-character search looks for), folded as 031 folds.
DROP VIEW inquiries_fts_source;
CREATE VIEW inquiries_fts_source AS
  SELECT rowid, linkdesk_fold('  ' || reference_id) AS reference_id,
    linkdesk_fold('  ' || replace(trim(name || ' ' || id_name || ' ' || COALESCE((SELECT group_concat(
      replace(replace(replace(n.body, char(13), ' '), char(10), ' '), char(9), ' '), ' ')
      FROM inquiry_notes n WHERE n.inquiry_id = inquiries.id), '')), ' ', '  ')) AS name,
    linkdesk_fold('  ' || email) AS email FROM inquiries;

-- A note added, edited or removed re-indexes its inquiry.
CREATE TRIGGER inquiry_notes_fts_insert AFTER INSERT ON inquiry_notes BEGIN
  DELETE FROM inquiries_fts WHERE rowid = (SELECT rowid FROM inquiries WHERE id = NEW.inquiry_id);
  INSERT INTO inquiries_fts (rowid, reference_id, name, email)
    SELECT * FROM inquiries_fts_source WHERE rowid = (SELECT rowid FROM inquiries WHERE id = NEW.inquiry_id);
END;
CREATE TRIGGER inquiry_notes_fts_update AFTER UPDATE OF body ON inquiry_notes
  WHEN OLD.body IS NOT NEW.body
BEGIN
  DELETE FROM inquiries_fts WHERE rowid = (SELECT rowid FROM inquiries WHERE id = NEW.inquiry_id);
  INSERT INTO inquiries_fts (rowid, reference_id, name, email)
    SELECT * FROM inquiries_fts_source WHERE rowid = (SELECT rowid FROM inquiries WHERE id = NEW.inquiry_id);
END;
CREATE TRIGGER inquiry_notes_fts_delete AFTER DELETE ON inquiry_notes BEGIN
  DELETE FROM inquiries_fts WHERE rowid = (SELECT rowid FROM inquiries WHERE id = OLD.inquiry_id);
  INSERT INTO inquiries_fts (rowid, reference_id, name, email)
    SELECT * FROM inquiries_fts_source WHERE rowid = (SELECT rowid FROM inquiries WHERE id = OLD.inquiry_id);
END;
