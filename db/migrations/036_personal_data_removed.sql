-- 036: data retention. When the personal data of an inquiry's cached copy was removed (by the
-- retention rule or an admin) and by whom; ids, status, dates and the audit trail stay.
ALTER TABLE inquiries ADD COLUMN personal_removed_at INTEGER;
ALTER TABLE inquiries ADD COLUMN personal_removed_by TEXT NOT NULL DEFAULT '';
CREATE INDEX inquiries_retention ON inquiries(updated_at) WHERE personal_removed_at IS NULL;

-- A later webhook, sync or refresh of a removed inquiry must not bring its data back: whatever
-- writer set it, it is blanked again in the same statement's transaction.
CREATE TRIGGER inquiries_keep_removed AFTER UPDATE OF name, id_name, email, fields, note ON inquiries
  WHEN NEW.personal_removed_at IS NOT NULL
    AND (NEW.name != '' OR NEW.id_name != '' OR NEW.email != '' OR NEW.fields != '{}' OR NEW.note != '')
BEGIN
  UPDATE inquiries SET name = '', id_name = '', email = '', fields = '{}', note = '' WHERE rowid = NEW.rowid;
END;
