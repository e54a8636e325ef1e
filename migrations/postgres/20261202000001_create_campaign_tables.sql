-- The campaigns several hosts dial together: the same tables as the SQLite store after its
-- last migration, each scoped by its campaign, so one database holds many campaigns and every
-- host of a campaign sees the same rows.
--
-- Times are unix milliseconds in BIGINT, as on SQLite, and so are counters and codes (sqlx
-- reads every integer column as an i64, and PostgreSQL has no unsigned types). States are TEXT
-- with a CHECK constraint. Due times (`next_attempt_at`) are set from the writing host's
-- clock, as on SQLite; a lease (`lease_expires_at`) is set from the DATABASE's clock, the one
-- clock every host reads alike.

-- The database's clock in unix milliseconds (`clock_timestamp()`, through `unix_clock_ns()`):
-- what leases are set and compared with.
CREATE FUNCTION unix_ms() RETURNS bigint
LANGUAGE sql VOLATILE
AS $$ SELECT unix_clock_ns() / 1000000 $$;

CREATE TABLE campaigns (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT   NOT NULL UNIQUE,                -- campaign.name
    status     TEXT   NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'paused', 'canceled')),
    created_at BIGINT NOT NULL
);

-- A person to call: one row per distinct `to` of a campaign's list (a number listed twice is
-- dialed once).
CREATE TABLE rows (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id      BIGINT  NOT NULL REFERENCES campaigns (id),
    line             BIGINT  NOT NULL,                -- line in the list file where it stands
    to_endpoint      TEXT    NOT NULL,
    label            TEXT    NOT NULL,                -- how the attempt is found at Twilio later
    params           TEXT    NOT NULL,                -- JSON object: this row's column overrides
    state            TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'dialing', 'created', 'failed', 'unknown', 'suppressed', 'canceled')),
    attempts         BIGINT  NOT NULL DEFAULT 0,      -- create requests sent
    failures         BIGINT  NOT NULL DEFAULT 0,      -- attempts that count towards max_attempts
    next_attempt_at  BIGINT  NOT NULL DEFAULT 0,      -- unix ms; when a pending/unknown row is due
    call_sid         TEXT,
    conference_sid   TEXT,
    queue_time_ms    BIGINT,
    last_status      BIGINT,                          -- last HTTP status
    last_code        BIGINT,                          -- last Twilio error code
    last_message     TEXT,
    created_at       BIGINT,                          -- unix ms when Twilio accepted the call
    timezone         TEXT,                            -- IANA zone of the callee, when known
    -- The latest call's outcome, from status callbacks or polling.
    call_status      TEXT CHECK (call_status IN ('queued', 'initiated', 'ringing', 'in-progress', 'completed',
                                                 'busy', 'no-answer', 'failed', 'canceled')),
    answered_by      TEXT,
    duration_secs    BIGINT,
    outcome_at       BIGINT,                          -- unix ms of the final status
    outcome_final    BOOLEAN NOT NULL DEFAULT false,  -- once call_status is final
    updated_at       BIGINT  NOT NULL,
    -- Who is dialing the row (`host:pid:random`, one per process) and until when (unix ms on
    -- the database's clock). A holder that stops renewing its lease, because it died or lost
    -- the network, loses the row once the lease and a request's timeout have run out: the row
    -- is then in doubt and reconciled with Twilio, never dialed again blindly.
    holder           TEXT,
    lease_expires_at BIGINT,
    -- A row being dialed always has a holder and a lease, or nobody could ever take it over.
    CHECK (state <> 'dialing' OR (holder IS NOT NULL AND lease_expires_at IS NOT NULL)),
    UNIQUE (campaign_id, to_endpoint),                -- a number listed twice is dialed once
    UNIQUE (campaign_id, label)                       -- how the attempt is found at Twilio later
);

-- Created calls still waiting for their final status (polled when no callback arrives).
CREATE INDEX rows_awaiting_outcome ON rows (campaign_id, created_at, id) WHERE state = 'created' AND NOT outcome_final;

-- The claim query reads only due rows; a partial index keeps it small when most rows are done.
CREATE INDEX rows_pending ON rows (campaign_id, next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX rows_unknown ON rows (campaign_id, next_attempt_at, id) WHERE state = 'unknown';
CREATE INDEX rows_state ON rows (campaign_id, state);
-- The orphan sweep and the heartbeat read the rows being dialed, by their lease.
CREATE INDEX rows_dialing ON rows (campaign_id, lease_expires_at) WHERE state = 'dialing';

-- Every create request, written before it leaves ('sending') and completed after. `holder`
-- is the process that sent it, for the record when hosts share a campaign.
CREATE TABLE attempts (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id   BIGINT NOT NULL REFERENCES campaigns (id),  -- the row's; spares the report a join
    row_id        BIGINT NOT NULL REFERENCES rows (id),
    number        BIGINT NOT NULL,
    holder        TEXT,
    started_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    outcome       TEXT   NOT NULL DEFAULT 'sending'
                  CHECK (outcome IN ('sending', 'created', 'retry', 'failed', 'unknown', 'not_created', 'found')),
    http_status   BIGINT,
    twilio_code   BIGINT,
    message       TEXT,
    call_sid      TEXT,
    queue_time_ms BIGINT,
    call_status   TEXT,                               -- this call's final status, once known
    answered_by   TEXT,
    duration_secs BIGINT,
    UNIQUE (row_id, number)
);

CREATE INDEX attempts_call_sid ON attempts (campaign_id, call_sid) WHERE call_sid IS NOT NULL;

-- Every call-progress event received (callback) or observed (poll). Idempotent: a duplicate
-- delivery of the same SequenceNumber is ignored, whichever host receives it.
CREATE TABLE call_events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id     BIGINT NOT NULL REFERENCES campaigns (id),
    call_sid        TEXT   NOT NULL,
    source          TEXT   NOT NULL CHECK (source IN ('callback', 'poll')),
    sequence_number BIGINT NOT NULL,
    call_status     TEXT   NOT NULL,
    answered_by     TEXT,
    duration_secs   BIGINT,
    params          TEXT   NOT NULL,                  -- JSON object of what Twilio sent
    received_at     BIGINT NOT NULL,
    UNIQUE (campaign_id, call_sid, source, sequence_number)
);

-- Lines of the list refused at import (replaced at every import, so it mirrors the list as it is).
CREATE TABLE rejects (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    line        BIGINT NOT NULL,
    reason      TEXT   NOT NULL,
    raw         TEXT,
    PRIMARY KEY (campaign_id, line)
);

-- Conference SIDs learned from create answers, so a friendly-name conference can be queried.
CREATE TABLE conferences (
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    target      TEXT   NOT NULL,
    sid         TEXT   NOT NULL,
    PRIMARY KEY (campaign_id, target)
);

CREATE TABLE runs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    started_at  BIGINT NOT NULL,
    finished_at BIGINT,
    exit_code   BIGINT
);

-- The last import that read the whole list to its end: what it read (the list's size and
-- modification time, a digest of its bytes and of the campaign as parsed) and what it found.
-- A run whose list and campaign are unchanged skips reading the list again; its rejects are
-- still in `rejects`.
CREATE TABLE list_import (
    campaign_id      BIGINT PRIMARY KEY REFERENCES campaigns (id),
    list_size        BIGINT NOT NULL,
    list_modified_ns BIGINT NOT NULL,
    fingerprint      TEXT   NOT NULL,
    records          BIGINT NOT NULL,
    accepted         BIGINT NOT NULL,                 -- new or already imported
    duplicates       BIGINT NOT NULL,
    ignored_columns  TEXT   NOT NULL,                 -- JSON array of names
    finished_at      BIGINT NOT NULL
);
