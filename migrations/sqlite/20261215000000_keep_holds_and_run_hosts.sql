-- What `dialer status` and the report say without reading every row: why a pending row waits
-- (its time is `next_attempt_at`), which host a run was on, and why its dialing ended (an exit
-- code of 4 alone does not tell Twilio unreachable from a pause). A run recorded before has
-- neither; a row deferred before has no hold, and says only that it was not dialed yet.
ALTER TABLE rows ADD COLUMN held_by TEXT CHECK (held_by IN ('window', 'frequency_cap'));
ALTER TABLE runs ADD COLUMN host TEXT;
ALTER TABLE runs ADD COLUMN ending TEXT CHECK (ending IN ('finished', 'signal', 'deadline',
    'credentials_refused', 'twilio_unreachable', 'database_failed', 'paused', 'canceled',
    'window_closed'));
