-- Each campaign's random key in this database, carried by its status callbacks' attempt
-- tokens (`dialer_attempt=KEY-ROW-ATTEMPT`): a callback of another campaign (another file
-- sharing the receiver's URL, whose row numbers are the same) names no row here. New campaigns
-- get theirs from the program when they are created; existing ones get one here.
ALTER TABLE campaigns ADD COLUMN callback_key TEXT;

UPDATE campaigns SET callback_key = lower(hex(randomblob(16))) WHERE callback_key IS NULL;

CREATE UNIQUE INDEX campaigns_by_callback_key ON campaigns (callback_key);
