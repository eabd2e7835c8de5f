-- 016: find the create request an inquiry came from, so its page can show what staff entered
-- (the inquiry's own fields become what Persona collected) beside what the ID says.
CREATE INDEX inquiry_requests_inquiry ON inquiry_requests(inquiry_id) WHERE inquiry_id IS NOT NULL;
