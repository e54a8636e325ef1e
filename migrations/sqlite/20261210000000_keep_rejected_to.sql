-- The `to` cell of a refused line as the list wrote it, whichever column refused it, so that
-- the export answers "why was this number not called?" for every line. NULL: the line was
-- refused by an import that predates the column (the export shows what it showed then).
ALTER TABLE rejects ADD COLUMN to_written TEXT;
