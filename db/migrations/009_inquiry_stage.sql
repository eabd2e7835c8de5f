-- The lifecycle stage of each cached row (model.Status.Stage), so the upsert's freshness rule
-- (newer version_at wins; on a tie the higher stage) is decided in SQL. New rows get it from
-- Go; existing rows are backfilled with the stages as defined when this migration was written.
ALTER TABLE inquiries ADD COLUMN stage INTEGER NOT NULL DEFAULT 0;
UPDATE inquiries SET stage = CASE status
  WHEN 'created' THEN 1
  WHEN 'pending' THEN 2
  WHEN 'completed' THEN 3 WHEN 'failed' THEN 3 WHEN 'expired' THEN 3
  WHEN 'needs_review' THEN 4
  WHEN 'approved' THEN 5 WHEN 'declined' THEN 5
  ELSE 0 END;
