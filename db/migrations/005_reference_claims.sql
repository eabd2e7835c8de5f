-- 005: a create in flight claims its reference ID first, so two staff members creating an
-- inquiry for the same person at the same moment make one inquiry, not two. The row is deleted
-- when the inquiry is saved or the create fails safely; one left behind by a crash is taken over
-- once it is older than the create timeout (see inquiry/create.go).
CREATE TABLE reference_claims (
  reference_id    TEXT PRIMARY KEY,
  idempotency_key TEXT NOT NULL REFERENCES inquiry_requests(idempotency_key),
  template_id     TEXT NOT NULL,
  claimed_by      INTEGER REFERENCES users(id),
  claimed_by_name TEXT NOT NULL,
  claimed_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX reference_claims_key ON reference_claims(idempotency_key);
