-- Each campaign's random key in this database, carried by its status callbacks' attempt
-- tokens (`dialer_attempt=KEY-ROW-ATTEMPT`): a callback of another campaign (another database
-- or file sharing the receiver's URL, whose row numbers may be the same) names no row here.
-- The volatile default gives every existing campaign its own key; new campaigns get theirs
-- from the program, so the default is dropped again.
ALTER TABLE campaigns ADD COLUMN callback_key TEXT NOT NULL
    DEFAULT md5(random()::text || clock_timestamp()::text);

ALTER TABLE campaigns ALTER COLUMN callback_key DROP DEFAULT;

CREATE UNIQUE INDEX campaigns_by_callback_key ON campaigns (callback_key);
