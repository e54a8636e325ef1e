-- One database per campaign: every table here belongs to that one campaign.

-- A person to call: one row per distinct `to` of the list (a number listed twice is dialed once).
CREATE TABLE rows (
    id              INTEGER PRIMARY KEY,
    line            INTEGER NOT NULL,                 -- line in the list file where it was first read
    to_endpoint     TEXT    NOT NULL UNIQUE,
    label           TEXT    NOT NULL UNIQUE,          -- how the attempt is found at Twilio later
    params          TEXT    NOT NULL,                 -- JSON object: this row's column overrides
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'dialing', 'created', 'failed', 'unknown', 'suppressed', 'canceled')),
    attempts        INTEGER NOT NULL DEFAULT 0,       -- create requests sent
    failures        INTEGER NOT NULL DEFAULT 0,       -- attempts that count towards max_attempts
    next_attempt_at INTEGER NOT NULL DEFAULT 0,       -- unix ms; when a pending/unknown row is due
    call_sid        TEXT,
    conference_sid  TEXT,
    queue_time_ms   INTEGER,
    last_status     INTEGER,                          -- last HTTP status
    last_code       INTEGER,                          -- last Twilio error code
    last_message    TEXT,
    created_at      INTEGER,                          -- unix ms when Twilio accepted the call
    timezone        TEXT,                             -- IANA zone of the callee, when known
    -- The latest call's outcome, from status callbacks or polling.
    call_status     TEXT CHECK (call_status IN ('queued', 'initiated', 'ringing', 'in-progress', 'completed',
                                                'busy', 'no-answer', 'failed', 'canceled')),
    answered_by     TEXT,
    duration_secs   INTEGER,
    outcome_at      INTEGER,                          -- unix ms of the final status
    outcome_final   INTEGER NOT NULL DEFAULT 0,       -- 1 once call_status is final
    updated_at      INTEGER NOT NULL
);

-- Created calls still waiting for their final status (polled when no callback arrives).
CREATE INDEX rows_awaiting_outcome ON rows (created_at, id) WHERE state = 'created' AND outcome_final = 0;

-- The claim query reads only due rows; a partial index keeps it small when most rows are done.
CREATE INDEX rows_pending ON rows (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX rows_unknown ON rows (next_attempt_at, id) WHERE state = 'unknown';

-- Every create request, written before it leaves ('sending') and completed after.
CREATE TABLE attempts (
    id            INTEGER PRIMARY KEY,
    row_id        INTEGER NOT NULL REFERENCES rows (id),
    number        INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    outcome       TEXT    NOT NULL DEFAULT 'sending'
                  CHECK (outcome IN ('sending', 'created', 'retry', 'failed', 'unknown', 'not_created', 'found')),
    http_status   INTEGER,
    twilio_code   INTEGER,
    message       TEXT,
    call_sid      TEXT,
    queue_time_ms INTEGER,
    call_status   TEXT,                               -- this call's final status, once known
    answered_by   TEXT,
    duration_secs INTEGER,
    UNIQUE (row_id, number)
);

CREATE INDEX attempts_call_sid ON attempts (call_sid) WHERE call_sid IS NOT NULL;

-- Every call-progress event received (callback) or observed (poll). Idempotent: a duplicate
-- delivery of the same SequenceNumber is ignored.
CREATE TABLE call_events (
    id              INTEGER PRIMARY KEY,
    call_sid        TEXT    NOT NULL,
    source          TEXT    NOT NULL CHECK (source IN ('callback', 'poll')),
    sequence_number INTEGER NOT NULL,
    call_status     TEXT    NOT NULL,
    answered_by     TEXT,
    duration_secs   INTEGER,
    params          TEXT    NOT NULL,                 -- JSON object of what Twilio sent
    received_at     INTEGER NOT NULL,
    UNIQUE (call_sid, source, sequence_number)
);

-- Campaign-wide switches: 'status' is running, paused or canceled.
CREATE TABLE control (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Lines of the list refused at import (replaced at every import, so it mirrors the list as it is).
CREATE TABLE rejects (
    line   INTEGER PRIMARY KEY,
    reason TEXT NOT NULL,
    raw    TEXT
);

-- Conference SIDs learned from create answers, so a friendly-name conference can be queried.
CREATE TABLE conferences (
    target TEXT PRIMARY KEY,
    sid    TEXT NOT NULL
);

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    exit_code   INTEGER
);
