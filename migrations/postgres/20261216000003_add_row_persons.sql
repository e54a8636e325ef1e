-- The person a row's number belongs to, as the list's `person` column names them (NULL: the
-- number alone): caps and opt-outs hold for every number of a person, across the campaigns of
-- the database, found by this index.
ALTER TABLE rows ADD COLUMN person TEXT;
CREATE INDEX rows_person ON rows (person) WHERE person IS NOT NULL;
