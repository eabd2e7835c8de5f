-- 028: the key of the submitted form that started a bulk job (NULL for `linkdesk bulk`), so a
-- Start submitted twice (a double click, a retried request) finds the first job instead of
-- making a second one that creates and emails everyone again.
ALTER TABLE bulk_jobs ADD COLUMN form_key TEXT;
CREATE UNIQUE INDEX bulk_jobs_form_key ON bulk_jobs(form_key) WHERE form_key IS NOT NULL;
