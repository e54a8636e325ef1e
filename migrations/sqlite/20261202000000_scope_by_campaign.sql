-- Many campaigns in one database: every table is scoped by its campaign, so that several
-- campaign files may name one database (and frequency caps can see every campaign's calls).
--
-- A database written before held exactly one campaign. Its data becomes campaign 1, whose
-- name is NULL until the first campaign file that opens the database gives it its own
-- (`Store::open`). Tables whose uniqueness changes are rebuilt; this runs with foreign keys
-- off (the store migrates on a connection of its own), inside the migration's transaction.

CREATE TABLE campaigns (
    id         INTEGER PRIMARY KEY,
    name       TEXT UNIQUE,                           -- campaign.name; NULL: not yet claimed
    status     TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'paused', 'canceled')),
    created_at INTEGER NOT NULL
);

INSERT INTO campaigns (id, name, status, created_at)
SELECT 1, NULL, COALESCE((SELECT value FROM control WHERE key = 'status'), 'running'),
       COALESCE((SELECT MIN(started_at) FROM runs), 0)
WHERE EXISTS (SELECT 1 FROM rows) OR EXISTS (SELECT 1 FROM runs) OR EXISTS (SELECT 1 FROM control)
   OR EXISTS (SELECT 1 FROM rejects) OR EXISTS (SELECT 1 FROM list_import);

DROP TABLE control;

CREATE TABLE rows_scoped (
    id              INTEGER PRIMARY KEY,
    campaign_id     INTEGER NOT NULL REFERENCES campaigns (id),
    line            INTEGER NOT NULL,
    to_endpoint     TEXT    NOT NULL,
    label           TEXT    NOT NULL,
    params          TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'dialing', 'created', 'failed', 'unknown', 'suppressed', 'canceled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    call_sid        TEXT,
    conference_sid  TEXT,
    queue_time_ms   INTEGER,
    last_status     INTEGER,
    last_code       INTEGER,
    last_message    TEXT,
    created_at      INTEGER,
    timezone        TEXT,
    call_status     TEXT CHECK (call_status IN ('queued', 'initiated', 'ringing', 'in-progress', 'completed',
                                                'busy', 'no-answer', 'failed', 'canceled')),
    answered_by     TEXT,
    duration_secs   INTEGER,
    outcome_at      INTEGER,
    outcome_final   INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL,
    UNIQUE (campaign_id, to_endpoint),                -- a number listed twice is dialed once
    UNIQUE (campaign_id, label)                       -- how the attempt is found at Twilio later
);
INSERT INTO rows_scoped
SELECT id, 1, line, to_endpoint, label, params, state, attempts, failures, next_attempt_at, call_sid,
       conference_sid, queue_time_ms, last_status, last_code, last_message, created_at, timezone,
       call_status, answered_by, duration_secs, outcome_at, outcome_final, updated_at
FROM rows;
DROP TABLE rows;
ALTER TABLE rows_scoped RENAME TO rows;

CREATE INDEX rows_awaiting_outcome ON rows (campaign_id, created_at, id) WHERE state = 'created' AND outcome_final = 0;
CREATE INDEX rows_pending ON rows (campaign_id, next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX rows_unknown ON rows (campaign_id, next_attempt_at, id) WHERE state = 'unknown';
CREATE INDEX rows_state ON rows (campaign_id, state);

-- An attempt belongs to its row's campaign; the column spares the report a join.
ALTER TABLE attempts ADD COLUMN campaign_id INTEGER NOT NULL DEFAULT 1;
DROP INDEX attempts_call_sid;
CREATE INDEX attempts_call_sid ON attempts (campaign_id, call_sid) WHERE call_sid IS NOT NULL;

CREATE TABLE call_events_scoped (
    id              INTEGER PRIMARY KEY,
    campaign_id     INTEGER NOT NULL REFERENCES campaigns (id),
    call_sid        TEXT    NOT NULL,
    source          TEXT    NOT NULL CHECK (source IN ('callback', 'poll')),
    sequence_number INTEGER NOT NULL,
    call_status     TEXT    NOT NULL,
    answered_by     TEXT,
    duration_secs   INTEGER,
    params          TEXT    NOT NULL,
    received_at     INTEGER NOT NULL,
    UNIQUE (campaign_id, call_sid, source, sequence_number)
);
INSERT INTO call_events_scoped
SELECT id, 1, call_sid, source, sequence_number, call_status, answered_by, duration_secs, params, received_at
FROM call_events;
DROP TABLE call_events;
ALTER TABLE call_events_scoped RENAME TO call_events;

CREATE TABLE rejects_scoped (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    line        INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    raw         TEXT,
    PRIMARY KEY (campaign_id, line)
);
INSERT INTO rejects_scoped SELECT 1, line, reason, raw FROM rejects;
DROP TABLE rejects;
ALTER TABLE rejects_scoped RENAME TO rejects;

CREATE TABLE conferences_scoped (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    target      TEXT    NOT NULL,
    sid         TEXT    NOT NULL,
    PRIMARY KEY (campaign_id, target)
);
INSERT INTO conferences_scoped SELECT 1, target, sid FROM conferences;
DROP TABLE conferences;
ALTER TABLE conferences_scoped RENAME TO conferences;

ALTER TABLE runs ADD COLUMN campaign_id INTEGER NOT NULL DEFAULT 1;

CREATE TABLE list_import_scoped (
    campaign_id      INTEGER PRIMARY KEY REFERENCES campaigns (id),
    list_size        INTEGER NOT NULL,
    list_modified_ns INTEGER NOT NULL,
    fingerprint      TEXT    NOT NULL,
    records          INTEGER NOT NULL,
    accepted         INTEGER NOT NULL,
    duplicates       INTEGER NOT NULL,
    ignored_columns  TEXT    NOT NULL,
    finished_at      INTEGER NOT NULL
);
INSERT INTO list_import_scoped
SELECT 1, list_size, list_modified_ns, fingerprint, records, accepted, duplicates, ignored_columns, finished_at
FROM list_import;
DROP TABLE list_import;
ALTER TABLE list_import_scoped RENAME TO list_import;
