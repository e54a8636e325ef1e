//! The list into the store, batch by batch with one statement a batch, and the record of the
//! last complete import. Several hosts may import the same list at once (PostgreSQL): each
//! person is inserted by one of them (the unique keys decide, and a host that finds a row
//! another inserted counts it as already imported), and the import's record is upserted, so
//! neither fails the other. A batch's own statements are in `import_batch`; the rejects,
//! passed as arrays on PostgreSQL, are the other statement that differs by backend.

use super::dialect::{Tx, on_backend};
use super::import_batch::Batch;
use super::{FinishedImport, ImportPass, Inserted, NewRow, Reject, Store, StoreError};

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
            // The writer's lock from the start: a batch reads the highest id before it
            // inserts, and a transaction that read first is refused its upgrade to a writer
            // (`database is locked`, no wait) when another campaign on the file wrote between.
            Self::Sqlite(db) => (
                db.campaign,
                OpenTx::Sqlite(db.pool.begin_with("BEGIN IMMEDIATE").await?),
            ),
            Self::Postgres(db) => {
                let mut tx = db.pool.begin().await?;
                // Where each batch is staged by COPY (see `Batch::insert`); gone at the end of
                // the transaction, committed or not.
                sqlx::query(
                    "CREATE TEMP TABLE import_batch (n bigint, line bigint, to_endpoint text,
                     label text, params text, timezone text, timezone_source text, jurisdictions text,
                     person text)
                     ON COMMIT DROP",
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
