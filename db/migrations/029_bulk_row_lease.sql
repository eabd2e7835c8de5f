-- 029: until when a worker holds a bulk row it took (0: no one). Cancelling a job settles its
-- pending rows as not done, but not one a worker holds: that row's create and email may be on
-- their way, so its outcome is recorded when the worker ends it.
ALTER TABLE bulk_rows ADD COLUMN leased_until INTEGER NOT NULL DEFAULT 0;
