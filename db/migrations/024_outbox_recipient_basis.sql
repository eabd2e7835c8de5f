-- Why a link email went to its address: the inquiry's own ("own"), one a staff member typed
-- and confirmed for it ("typed"), or the address an earlier email to it went to ("earlier",
-- reminders). Emails queued before this column say nothing ('').
ALTER TABLE outbox ADD COLUMN recipient_basis TEXT NOT NULL DEFAULT '';
