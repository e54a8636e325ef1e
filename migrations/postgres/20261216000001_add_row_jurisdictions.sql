-- The jurisdictions whose calling rules bind a row's call (`US`, and the states its number's
-- area code or the list's `state` column names), space-separated; '' for a number outside the
-- US. NULL: imported before they were kept, filled in by the next run before it dials.
ALTER TABLE rows ADD COLUMN jurisdictions TEXT;
