-- People who asked not to be called again, for every campaign of the database: their number,
-- when it was recorded and by what (the command line, or `dialer serve` for a CRM or an IVR),
-- and when it lapses (NULL: never). A number is kept once; recording it again replaces it.
CREATE TABLE opt_outs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number      TEXT   NOT NULL UNIQUE,
    added_at    BIGINT NOT NULL,
    expires_at  BIGINT,
    source      TEXT   NOT NULL CHECK (source IN ('cli', 'serve')),
    note        TEXT
);
