-- 030: the search no longer keeps its own copy of each inquiry's keys (017): the readers'
-- page cache and memory map serve the rows instead. Its change log and triggers go, so no write
-- pays for them.
DROP TRIGGER inquiry_keys_insert;
DROP TRIGGER inquiry_keys_update;
DROP TRIGGER inquiry_keys_delete;
DROP TRIGGER inquiry_keys_text;
DROP TABLE inquiry_key_changes;
