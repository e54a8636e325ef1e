-- `dialer campaign requeue` puts failed rows back to pending with a fresh attempt budget.
-- Attempt numbers keep counting (a status callback names its attempt, so a number is never
-- reused); `attempts_before_requeue` is where the budget restarts: only attempts after it
-- count towards max_attempts.
ALTER TABLE rows ADD COLUMN attempts_before_requeue INTEGER NOT NULL DEFAULT 0;

-- Every requeue of a row, with what the row had failed with: its history in the report and
-- the export.
CREATE TABLE requeues (
    id          INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    row_id      INTEGER NOT NULL REFERENCES rows (id),
    requeued_at INTEGER NOT NULL,                     -- unix ms
    attempts    INTEGER NOT NULL,                     -- the row's attempts when it was put back
    was_code    INTEGER,                              -- its last Twilio error code then
    was_message TEXT                                  -- and its last error message
);

CREATE INDEX requeues_row ON requeues (row_id, id);
