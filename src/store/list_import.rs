//! The list into the store, batch by batch with one statement a batch, and the record of the
//! last complete import. Several hosts may import the same list at once (PostgreSQL): each
//! person is inserted by one of them (the unique keys decide, and a host that finds a row
//! another inserted counts it as already imported), and the import's record is upserted, so
//! neither fails the other. Only the statements that pass a whole batch differ by backend (a
//! JSON array read with `json_each` on SQLite, which has no arrays; `unnest` on PostgreSQL).

use super::copy_text::CopyText;
use super::dialect::{Tx, on_backend, on_tx};
use super::{FinishedImport, ImportPass, Inserted, NewRow, Reject, Store, StoreError};
use std::collections::HashMap;

impl Store {
    /// Inserts a batch of rows in a transaction of its own (see [`ImportTx::import_rows`]).
    pub async fn import_rows(
        &self,
        pass: &mut ImportPass,
        rows: &[NewRow],
    ) -> Result<Vec<Inserted>, StoreError> {
        let mut tx = self.begin_import().await?;
        let results = tx.import_rows(pass, rows).await?;
        tx.commit().await?;
        Ok(results)
    }

    /// The pass of an import that begins now. Into a campaign with no rows yet, its batches
    /// take the short way (see `Batch::insert`). Otherwise PostgreSQL's statistics are brought
    /// up to date first (an import cut short leaves them those of an empty table, and with
    /// them it hashed the whole campaign for every batch's lookups); outside the import's
    /// transaction, so that hosts starting together wait on each other only that long.
    pub async fn begin_import_pass(&self) -> Result<ImportPass, StoreError> {
        let empty: bool = on_backend!(self, db => sqlx::query_scalar(
            "SELECT NOT EXISTS (SELECT 1 FROM rows WHERE campaign_id = $1)",
        )
        .bind(db.campaign)
        .fetch_one(&db.pool)
        .await?);
        if let Self::Postgres(db) = self
            && !empty
        {
            sqlx::query("ANALYZE rows").execute(&db.pool).await?;
        }
        Ok(ImportPass::fresh(empty))
    }

    /// A transaction for the batches of an import, committed when its caller says.
    pub async fn begin_import(&self) -> Result<ImportTx, StoreError> {
        let now = self.now_ms();
        let (campaign, tx) = match self {
            Self::Sqlite(db) => (db.campaign, OpenTx::Sqlite(db.pool.begin().await?)),
            Self::Postgres(db) => {
                let mut tx = db.pool.begin().await?;
                // Where each batch is staged by COPY (see `Batch::insert`); gone at the end of
                // the transaction, committed or not.
                sqlx::query(
                    "CREATE TEMP TABLE import_batch (n bigint, line bigint, to_endpoint text,
                     label text, params text, timezone text, timezone_source text) ON COMMIT DROP",
                )
                .execute(&mut *tx)
                .await?;
                (db.campaign, OpenTx::Postgres(tx))
            }
        };
        Ok(ImportTx { campaign, now, tx })
    }

    /// Records the import's rejects (replacing the previous import's) and, in the same
    /// transaction, what it read when it read the whole list (`None`: it stopped short, so the
    /// next run reads it all again). A run killed mid-import changes neither. Upserts, so that
    /// hosts finishing the same import at once both succeed (the last one's record stands, and
    /// it is the same list).
    pub async fn finish_import(
        &self,
        rejects: &[Reject],
        done: Option<&FinishedImport>,
    ) -> Result<(), StoreError> {
        let now = self.now_ms();
        on_backend!(self, db => {
            let mut tx = db.pool.begin().await?;
            sqlx::query("DELETE FROM rejects WHERE campaign_id = $1")
                .bind(db.campaign)
                .execute(&mut *tx)
                .await?;
            keep_rejects(Tx::from(&mut tx), db.campaign, rejects).await?;
            match done {
                Some(done) => {
                    let ignored = serde_json::to_string(&done.ignored_columns)
                        .map_err(|e| StoreError::Corrupt(format!("ignored columns: {e}")))?;
                    sqlx::query(
                        "INSERT INTO list_import (campaign_id, list_size, list_modified_ns, fingerprint,
                         records, accepted, duplicates, ignored_columns, finished_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                         ON CONFLICT (campaign_id) DO UPDATE SET list_size = excluded.list_size,
                         list_modified_ns = excluded.list_modified_ns, fingerprint = excluded.fingerprint,
                         records = excluded.records, accepted = excluded.accepted,
                         duplicates = excluded.duplicates, ignored_columns = excluded.ignored_columns,
                         finished_at = excluded.finished_at",
                    )
                    .bind(db.campaign)
                    .bind(done.list_size as i64)
                    .bind(done.list_modified_ns)
                    .bind(&done.fingerprint)
                    .bind(done.records as i64)
                    .bind(done.accepted as i64)
                    .bind(done.duplicates as i64)
                    .bind(ignored)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM list_import WHERE campaign_id = $1")
                        .bind(db.campaign)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
        });
        if let Self::Postgres(db) = self {
            // The planner's statistics still describe the table before the import: with rows
            // counted as none, it chose to sort every pending row for each claim (30 ms a claim
            // at 100,000 rows, instead of 0.5 ms through the pending rows' index).
            sqlx::query("ANALYZE rows").execute(&db.pool).await?;
        }
        Ok(())
    }

    /// The last import that read the whole list, if any.
    pub async fn last_import(&self) -> Result<Option<FinishedImport>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_as(
            "SELECT list_size, list_modified_ns, fingerprint, records, accepted, duplicates,
                    ignored_columns
             FROM list_import WHERE campaign_id = $1",
        )
        .bind(db.campaign)
        .fetch_optional(&db.pool)
        .await?))
    }

    /// The rejects of the last import, by line.
    pub async fn rejects(&self) -> Result<Vec<Reject>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_as(
            "SELECT line, reason, COALESCE(raw, '') AS raw, COALESCE(to_written, '') AS \"to\"
             FROM rejects WHERE campaign_id = $1 ORDER BY line",
        )
        .bind(db.campaign)
        .fetch_all(&db.pool)
        .await?))
    }
}

/// An import's transaction, holding several batches. Each commit writes again every index
/// page its rows touched, and a list's numbers, in no order, touch pages all over the
/// indexes by number: batches committed one by one rewrote those indexes once a batch. A
/// batch is one statement, so it stays small (memory); a transaction holds many. A run
/// killed before the commit leaves none of its rows, and the next run stores them again.
pub struct ImportTx {
    campaign: i64,
    now: i64,
    tx: OpenTx,
}

enum OpenTx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl ImportTx {
    /// Inserts a batch of rows, with one statement for the whole batch (a statement per row
    /// made re-importing a million-row list take about a minute); says what became of each.
    pub async fn import_rows(
        &mut self,
        pass: &mut ImportPass,
        rows: &[NewRow],
    ) -> Result<Vec<Inserted>, StoreError> {
        let batch = Batch {
            campaign: self.campaign,
            rows,
        };
        let tx = match &mut self.tx {
            OpenTx::Sqlite(tx) => Tx::from(tx),
            OpenTx::Postgres(tx) => Tx::from(tx),
        };
        batch.import(tx, pass, self.now).await
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self.tx {
            OpenTx::Sqlite(tx) => tx.commit().await?,
            OpenTx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// One batch of a campaign's list, imported inside its caller's transaction.
struct Batch<'a> {
    campaign: i64,
    rows: &'a [NewRow],
}

impl Batch<'_> {
    /// Inserts the new rows, finds the ones already there, and gives moved rows their line now.
    async fn import(
        &self,
        mut tx: Tx<'_, '_>,
        pass: &mut ImportPass,
        now: i64,
    ) -> Result<Vec<Inserted>, StoreError> {
        let inserted = self.insert(&mut tx, now, pass.fresh).await?;
        for (_, id) in &inserted {
            pass.meet(*id);
        }
        let is_new = |row: &NewRow| {
            inserted
                .binary_search_by_key(&(row.line as i64), |(line, _)| *line)
                .is_ok()
        };
        let taken: Vec<&str> = self
            .rows
            .iter()
            .filter(|r| !is_new(r))
            .map(|r| r.to.as_str())
            .collect();
        let mut known = self.known(&mut tx, &taken).await?;
        let mut moved = Vec::new();
        let mut results = Vec::with_capacity(self.rows.len());
        for row in self.rows {
            let result = match pass.verdict(row, is_new(row), &mut known, &mut moved) {
                Some(result) => result,
                None => {
                    let line: i64 = on_tx!(&mut tx, tx => sqlx::query_scalar(
                        "SELECT line FROM rows WHERE campaign_id = $1 AND label = $2",
                    )
                    .bind(self.campaign)
                    .bind(&row.label)
                    .fetch_one(&mut ***tx)
                    .await?);
                    Inserted::LabelTaken(line as u64)
                }
            };
            results.push(result);
        }
        if !moved.is_empty() {
            move_lines(&mut tx, moved).await?;
        }
        Ok(results)
    }

    /// Inserts the batch's new rows in list order, so a number listed twice in one batch keeps
    /// its first line; (line, row id) of each row inserted, by line (searched, not hashed: a
    /// batch's rows are mostly new, and hashing them cost as much as reading them).
    async fn insert(
        &self,
        tx: &mut Tx<'_, '_>,
        now: i64,
        fresh: bool,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut inserted: Vec<(i64, i64)> = match tx {
            Tx::Sqlite(tx) => {
                let batch: Vec<_> = self
                    .rows
                    .iter()
                    .map(|r| {
                        let (zone, source) = zone_columns(r);
                        (
                            r.line,
                            r.to.as_str(),
                            r.label.as_str(),
                            r.params.to_json(),
                            zone,
                            source,
                        )
                    })
                    .collect();
                let batch = serde_json::to_string(&batch).expect("strings and integers serialize");
                // `jsonb_each`, not `json_each`: each row comes out as binary JSON, its fields
                // read in place, instead of as text parsed again for each field.
                sqlx::query_as(
                    "INSERT INTO rows (campaign_id, line, to_endpoint, label, params, timezone,
                                       timezone_source, updated_at)
                     SELECT $3, value ->> '$[0]', value ->> '$[1]', value ->> '$[2]', value ->> '$[3]',
                            value ->> '$[4]', value ->> '$[5]', $2
                     FROM jsonb_each($1) WHERE true
                     ON CONFLICT DO NOTHING
                     RETURNING line, id",
                )
                .bind(batch)
                .bind(now)
                .bind(self.campaign)
                .fetch_all(&mut ***tx)
                .await?
            }
            Tx::Postgres(tx) => {
                // The batch goes in by COPY, the fastest way in, to the transaction's staging
                // table (see `begin_import`), and from there into `rows` by one statement.
                let mut staged = CopyText::with_capacity(self.rows.len() * 96);
                for (n, r) in self.rows.iter().enumerate() {
                    let (zone, source) = zone_columns(r);
                    staged
                        .field(Some(&n.to_string()))
                        .field(Some(&r.line.to_string()))
                        .field(Some(r.to.as_str()))
                        .field(Some(r.label.as_str()))
                        .field(Some(&r.params.to_json()))
                        .field(zone)
                        .field(source)
                        .end_row();
                }
                let mut copy = tx
                    .copy_in_raw(
                        "COPY import_batch (n, line, to_endpoint, label, params, timezone, timezone_source)
                         FROM STDIN",
                    )
                    .await?;
                copy.send(staged.into_bytes()).await?;
                copy.finish().await?;
                // Rows already there are left out before the insert, not only by ON CONFLICT,
                // which would still draw an id for each: re-importing a list would then burn a
                // list's worth of ids every run (and widen every ImportPass with them). Into a
                // campaign that had no rows, there is nothing to leave out (a conflict is a
                // number listed twice, or another host's row), and the lookups would cost more
                // than the insert.
                let inserted = if fresh {
                    sqlx::query_as(
                        "INSERT INTO rows (campaign_id, line, to_endpoint, label, params, timezone,
                                           timezone_source, updated_at)
                         SELECT $1, b.line, b.to_endpoint, b.label, b.params, b.timezone, b.timezone_source, $2
                         FROM import_batch b
                         ORDER BY b.n
                         ON CONFLICT DO NOTHING
                         RETURNING line, id",
                    )
                    .bind(self.campaign)
                    .bind(now)
                    .fetch_all(&mut ***tx)
                    .await?
                } else {
                    sqlx::query_as(
                        "INSERT INTO rows (campaign_id, line, to_endpoint, label, params, timezone,
                                           timezone_source, updated_at)
                         SELECT $1, b.line, b.to_endpoint, b.label, b.params, b.timezone, b.timezone_source, $2
                         FROM import_batch b
                         WHERE NOT EXISTS (SELECT 1 FROM rows r WHERE r.campaign_id = $1 AND r.to_endpoint = b.to_endpoint)
                           AND NOT EXISTS (SELECT 1 FROM rows r WHERE r.campaign_id = $1 AND r.label = b.label)
                         ORDER BY b.n
                         ON CONFLICT DO NOTHING
                         RETURNING line, id",
                    )
                    .bind(self.campaign)
                    .bind(now)
                    .fetch_all(&mut ***tx)
                    .await?
                };
                sqlx::query("TRUNCATE import_batch")
                    .execute(&mut ***tx)
                    .await?;
                inserted
            }
        };
        inserted.sort_unstable();
        Ok(inserted)
    }

    /// The rows already there for the numbers `taken`: `to` → (row id, the line it stands on in
    /// this import, or stood on before). A new statement: on PostgreSQL it sees the rows another
    /// host committed while this one's insert waited.
    async fn known(
        &self,
        tx: &mut Tx<'_, '_>,
        taken: &[&str],
    ) -> Result<HashMap<String, (i64, i64)>, StoreError> {
        if taken.is_empty() {
            return Ok(HashMap::new());
        }
        let found: Vec<(String, i64, i64)> = match tx {
            Tx::Sqlite(tx) => {
                sqlx::query_as(
                    "SELECT to_endpoint, id, line FROM rows
                     WHERE campaign_id = $1 AND to_endpoint IN (SELECT value FROM json_each($2))",
                )
                .bind(self.campaign)
                .bind(serde_json::to_string(taken).expect("strings serialize"))
                .fetch_all(&mut ***tx)
                .await?
            }
            Tx::Postgres(tx) => {
                sqlx::query_as(
                    "SELECT to_endpoint, id, line FROM rows
                     WHERE campaign_id = $1 AND to_endpoint = ANY($2::text[])",
                )
                .bind(self.campaign)
                .bind(taken)
                .fetch_all(&mut ***tx)
                .await?
            }
        };
        Ok(found
            .into_iter()
            .map(|(to, id, line)| (to, (id, line)))
            .collect())
    }
}

/// A row's zone as its two columns (both NULL: the campaign's zone).
fn zone_columns(row: &NewRow) -> (Option<&str>, Option<&'static str>) {
    match &row.zone {
        Some(zone) => (Some(zone.zones.as_str()), Some(zone.source.as_str())),
        None => (None, None),
    }
}

/// The list changed (a line inserted above, a sort): each row of `moved` (row id, line) gives
/// its line now.
async fn move_lines(tx: &mut Tx<'_, '_>, moved: Vec<(i64, i64)>) -> Result<(), StoreError> {
    match tx {
        Tx::Sqlite(tx) => {
            sqlx::query(
                "UPDATE rows SET line = moved.value ->> '$[1]'
                 FROM json_each($1) AS moved WHERE rows.id = moved.value ->> '$[0]'",
            )
            .bind(serde_json::to_string(&moved).expect("integers serialize"))
            .execute(&mut ***tx)
            .await?;
        }
        Tx::Postgres(tx) => {
            // Locked in id order first, so that two hosts moving the same rows never wait on
            // each other in a circle.
            let (ids, lines): (Vec<i64>, Vec<i64>) = moved.into_iter().unzip();
            sqlx::query(
                "WITH moved AS (
                     SELECT rows.id, m.line FROM rows
                     JOIN unnest($1::bigint[], $2::bigint[]) AS m(id, line) ON rows.id = m.id
                     ORDER BY rows.id FOR UPDATE OF rows
                 )
                 UPDATE rows SET line = moved.line FROM moved WHERE rows.id = moved.id",
            )
            .bind(ids)
            .bind(lines)
            .execute(&mut ***tx)
            .await?;
        }
    }
    Ok(())
}

/// Keeps the import's rejects; a line rejected twice keeps its last reason (list order).
async fn keep_rejects(tx: Tx<'_, '_>, campaign: i64, rejects: &[Reject]) -> Result<(), StoreError> {
    if rejects.is_empty() {
        return Ok(());
    }
    match tx {
        Tx::Sqlite(tx) => {
            for reject in rejects {
                sqlx::query(
                    "INSERT OR REPLACE INTO rejects (campaign_id, line, reason, raw, to_written)
                     VALUES ($1, $2, $3, $4, NULLIF($5, ''))",
                )
                .bind(campaign)
                .bind(reject.line as i64)
                .bind(&reject.reason)
                .bind(&reject.raw)
                .bind(&reject.to)
                .execute(&mut **tx)
                .await?;
            }
        }
        Tx::Postgres(tx) => {
            let lines: Vec<i64> = rejects.iter().map(|r| r.line as i64).collect();
            let reasons: Vec<&str> = rejects.iter().map(|r| r.reason.as_str()).collect();
            let raws: Vec<&str> = rejects.iter().map(|r| r.raw.as_str()).collect();
            let tos: Vec<&str> = rejects.iter().map(|r| r.to.as_str()).collect();
            sqlx::query(
                "INSERT INTO rejects (campaign_id, line, reason, raw, to_written)
                 SELECT DISTINCT ON (j.line) $1, j.line, j.reason, j.raw, NULLIF(j.to_written, '')
                 FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[])
                      WITH ORDINALITY AS j(line, reason, raw, to_written, n)
                 ORDER BY j.line, j.n DESC
                 ON CONFLICT (campaign_id, line) DO UPDATE
                 SET reason = excluded.reason, raw = excluded.raw, to_written = excluded.to_written",
            )
            .bind(campaign)
            .bind(lines)
            .bind(reasons)
            .bind(raws)
            .bind(tos)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}
