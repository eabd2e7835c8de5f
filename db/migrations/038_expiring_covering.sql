-- 038: the "Expiring soon" index carries the status, so the count every list page shows (open
-- inquiries whose link expires soon, per status) reads the index alone, not each row; the list
-- and its counts name the index (INDEXED BY), since the planner would rather walk the status
-- index and read every open row.
DROP INDEX inquiries_expires;
CREATE INDEX inquiries_expires ON inquiries(expires_at, status) WHERE status IN ('created', 'pending');
