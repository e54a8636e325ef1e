-- A run's holder (`host:pid:random`, the name its attempts carry): the report counts each run's
-- requests and created calls by it. A run recorded before has none, and its counts are unknown.
ALTER TABLE runs ADD COLUMN holder TEXT;
