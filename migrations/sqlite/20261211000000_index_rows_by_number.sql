-- A frequency cap counts one person's calls across every campaign of the database: rows are
-- unique per campaign by number, so finding a number in all of them needs its own index.
CREATE INDEX rows_to_endpoint ON rows (to_endpoint);
