-- Where each row's callee zone came from, for the report: 'list' (its `timezone` column) or
-- 'prefix' (libphonenumber's map of number prefixes). NULL with a NULL timezone: the
-- campaign's zone; NULL with a zone: imported before this was recorded.
ALTER TABLE rows ADD COLUMN timezone_source TEXT CHECK (timezone_source IN ('list', 'prefix'));
