-- A claimed row names the process dialing it, as on PostgreSQL, so that a row's every change
-- after its claim is written once for both databases and fenced on its holder. On SQLite the
-- campaign's lock keeps other processes away for the whole run, so no lease is ever set:
-- `lease_expires_at` stays NULL, and a `dialing` row left by a dead run is reconciled by the
-- next one, whoever held it.
ALTER TABLE rows ADD COLUMN holder TEXT;
ALTER TABLE rows ADD COLUMN lease_expires_at INTEGER;
ALTER TABLE attempts ADD COLUMN holder TEXT;
