-- What `dialer status` and the report say without reading every row: why a pending row waits
-- (its time is `next_attempt_at`), and which host a run was on. A run recorded before has no
-- host; a row deferred before has no hold, and says only that it was not dialed yet.
ALTER TABLE rows ADD COLUMN held_by TEXT CHECK (held_by IN ('window', 'frequency_cap'));
ALTER TABLE runs ADD COLUMN host TEXT;
