-- The "Email link" form carries a key, so a double click or a re-sent POST queues one email.
ALTER TABLE outbox ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX outbox_request_key ON outbox(request_key) WHERE request_key IS NOT NULL;
