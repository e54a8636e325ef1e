-- The last import that read the whole list to its end: what it read (the list's size and
-- modification time, a digest of its bytes and of the campaign as parsed) and what it found.
-- A run whose list and campaign are unchanged skips reading the list again; its rejects are
-- still in `rejects`.
CREATE TABLE list_import (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    list_size       INTEGER NOT NULL,
    list_modified_ns INTEGER NOT NULL,
    fingerprint     TEXT    NOT NULL,
    records         INTEGER NOT NULL,
    accepted        INTEGER NOT NULL,                 -- new or already imported
    duplicates      INTEGER NOT NULL,
    ignored_columns TEXT    NOT NULL,                 -- JSON array of names
    finished_at     INTEGER NOT NULL
);
