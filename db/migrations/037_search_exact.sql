-- 037: the search index compares the folded text exactly. linkdesk_fold (db/fold.go) now does
-- all the folding (case, accents, the letters it spells out) and the index none, so a row whose
-- text is checked in Go (db/search_candidates.go reads inquiries_search_text and folds it the same
-- way) matches exactly when the index says it does. Rebuilt whole: about 30 seconds at a
-- million inquiries, once.
DROP VIEW inquiries_fts_source;

-- What is searched of each inquiry, as 032 composed it: the reference ID; the names and every
-- note's words, each word after two spaces; the email.
CREATE VIEW inquiries_search_text AS
  SELECT rowid, '  ' || reference_id AS reference_id,
    '  ' || replace(trim(name || ' ' || id_name || ' ' || COALESCE((SELECT group_concat(
      replace(replace(replace(n.body, char(13), ' '), char(10), ' '), char(9), ' '), ' ')
      FROM inquiry_notes n WHERE n.inquiry_id = inquiries.id), '')), ' ', '  ') AS name,
    '  ' || email AS email FROM inquiries;

-- What the index holds: that text folded. The triggers of 031 and 032 index it.
CREATE VIEW inquiries_fts_source AS
  SELECT rowid, linkdesk_fold(reference_id) AS reference_id, linkdesk_fold(name) AS name,
    linkdesk_fold(email) AS email FROM inquiries_search_text;

DROP TABLE inquiries_fts;
CREATE VIRTUAL TABLE inquiries_fts USING fts5(reference_id, name, email,
  content='', contentless_delete=1, tokenize='trigram case_sensitive 1');
INSERT INTO inquiries_fts (rowid, reference_id, name, email) SELECT * FROM inquiries_fts_source;
INSERT INTO inquiries_fts (inquiries_fts) VALUES ('optimize');
