-- 037: the search index compares the folded text exactly. linkdesk_fold (db/fold.go) now does
-- all the folding (case, accents, the letters it spells out) and the index none, so a row
-- checked in Go (db/search_words.go) matches exactly when the index says it does. Rebuilt
-- whole: about 30 seconds at a million inquiries, once.
DROP TABLE inquiries_fts;
CREATE VIRTUAL TABLE inquiries_fts USING fts5(reference_id, name, email,
  content='', contentless_delete=1, tokenize='trigram case_sensitive 1');
INSERT INTO inquiries_fts (rowid, reference_id, name, email) SELECT * FROM inquiries_fts_source;
INSERT INTO inquiries_fts (inquiries_fts) VALUES ('optimize');
