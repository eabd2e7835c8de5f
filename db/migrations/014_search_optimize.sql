-- 014: merge the search index into one segment. The backfill of 008 (and any bulk load) leaves
-- many segments, and a search reads every segment's doclist of each trigram; merged, a search
-- bounded to a rowid range (db/search.go) seeks straight to it. Later writes add small segments
-- that FTS5's automerge keeps few.
INSERT INTO inquiries_fts (inquiries_fts) VALUES ('optimize');
