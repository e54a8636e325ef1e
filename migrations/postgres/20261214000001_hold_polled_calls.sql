-- A created call's status is asked of Twilio by one host at a time: the host that takes a call
-- to poll holds it until this time (unix ms, the server's clock) and other hosts skip it, so
-- they neither read the same answers nor collide recording them. SQLite has one host.
ALTER TABLE rows ADD COLUMN poll_held_until BIGINT NOT NULL DEFAULT 0;
