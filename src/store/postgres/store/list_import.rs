//! The list into the shared store: rows brought in batch by batch, one statement a batch, and
//! what the last complete import found. Several hosts may import the same list at once: each
//! person is inserted by one of them (the unique keys decide, and a host that finds a row
//! another inserted counts it as already imported), and the import's record is upserted, so
//! neither fails the other.

use super::PgStore;
use crate::store::{FinishedImport, ImportPass, Inserted, NewRow, Reject, StoreError};
use std::collections::HashMap;

impl PgStore {
    /// Inserts a batch of rows in one transaction, with one statement for the whole batch.
    pub async fn import_rows(
        &self,
        pass: &mut ImportPass,
        rows: &[NewRow],
    ) -> Result<Vec<Inserted>, StoreError> {
        let lines: Vec<i64> = rows.iter().map(|r| r.line as i64).collect();
        let tos: Vec<&str> = rows.iter().map(|r| r.to.as_str()).collect();
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        let params: Vec<String> = rows.iter().map(|r| r.params.to_json()).collect();
        let mut tx = self.pool.begin().await?;
        // In list order, so a number listed twice in one batch keeps its first line. Rows
        // already there are left out before the insert, not only by ON CONFLICT, which would
        // still draw an id for each: re-importing a list would then burn a list's worth of
        // ids every run (and widen every ImportPass with them).
        let inserted: HashMap<i64, i64> = sqlx::query_as(
            "INSERT INTO rows (campaign_id, line, to_endpoint, label, params, updated_at)
             SELECT $1, b.line, b.to_endpoint, b.label, b.params, $2
             FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY
                  AS b(line, to_endpoint, label, params, n)
             WHERE NOT EXISTS (SELECT 1 FROM rows r WHERE r.campaign_id = $1 AND r.to_endpoint = b.to_endpoint)
               AND NOT EXISTS (SELECT 1 FROM rows r WHERE r.campaign_id = $1 AND r.label = b.label)
             ORDER BY b.n
             ON CONFLICT DO NOTHING
             RETURNING line, id",
        )
        .bind(self.campaign)
        .bind(self.now_ms())
        .bind(&lines)
        .bind(&tos)
        .bind(&labels)
        .bind(&params)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        for id in inserted.values() {
            pass.meet(*id);
        }
        let is_new = |row: &NewRow| inserted.contains_key(&(row.line as i64));
        let taken: Vec<&str> = rows
            .iter()
            .filter(|r| !is_new(r))
            .map(|r| r.to.as_str())
            .collect();
        // `to` → (row id, the line it stands on in this import, or stood on before). A new
        // statement: it sees the rows another host committed while this one's insert waited.
        let mut known: HashMap<String, (i64, i64)> = HashMap::new();
        if !taken.is_empty() {
            let found: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT to_endpoint, id, line FROM rows
                 WHERE campaign_id = $1 AND to_endpoint = ANY($2::text[])",
            )
            .bind(self.campaign)
            .bind(&taken)
            .fetch_all(&mut *tx)
            .await?;
            known = found
                .into_iter()
                .map(|(to, id, line)| (to, (id, line)))
                .collect();
        }
        let mut moved = Vec::new();
        let mut results = Vec::with_capacity(rows.len());
        for row in rows {
            let result = match pass.verdict(row, is_new(row), &mut known, &mut moved) {
                Some(result) => result,
                None => {
                    let line: i64 = sqlx::query_scalar(
                        "SELECT line FROM rows WHERE campaign_id = $1 AND label = $2",
                    )
                    .bind(self.campaign)
                    .bind(&row.label)
                    .fetch_one(&mut *tx)
                    .await?;
                    Inserted::LabelTaken(line as u64)
                }
            };
            results.push(result);
        }
        if !moved.is_empty() {
            // The list changed (a line inserted above, a sort): each row gives its line now.
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
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(results)
    }

    /// Records the import's rejects (replacing the previous import's) and, in the same
    /// transaction, what it read when it read the whole list (`None`: it stopped short, so the
    /// next run reads it all again). Upserts, so that hosts finishing the same import at once
    /// both succeed (the last one's record stands, and it is the same list).
    pub async fn finish_import(
        &self,
        rejects: &[Reject],
        done: Option<&FinishedImport>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM rejects WHERE campaign_id = $1")
            .bind(self.campaign)
            .execute(&mut *tx)
            .await?;
        if !rejects.is_empty() {
            let lines: Vec<i64> = rejects.iter().map(|r| r.line as i64).collect();
            let reasons: Vec<&str> = rejects.iter().map(|r| r.reason.as_str()).collect();
            let raws: Vec<&str> = rejects.iter().map(|r| r.raw.as_str()).collect();
            let tos: Vec<&str> = rejects.iter().map(|r| r.to.as_str()).collect();
            // A line rejected twice keeps its last reason, as a replace in list order would.
            sqlx::query(
                "INSERT INTO rejects (campaign_id, line, reason, raw, to_written)
                 SELECT DISTINCT ON (j.line) $1, j.line, j.reason, j.raw, NULLIF(j.to_written, '')
                 FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[])
                      WITH ORDINALITY AS j(line, reason, raw, to_written, n)
                 ORDER BY j.line, j.n DESC
                 ON CONFLICT (campaign_id, line) DO UPDATE
                 SET reason = excluded.reason, raw = excluded.raw, to_written = excluded.to_written",
            )
            .bind(self.campaign)
            .bind(lines)
            .bind(reasons)
            .bind(raws)
            .bind(tos)
            .execute(&mut *tx)
            .await?;
        }
        match done {
            None => {
                sqlx::query("DELETE FROM list_import WHERE campaign_id = $1")
                    .bind(self.campaign)
                    .execute(&mut *tx)
                    .await?;
            }
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
                .bind(self.campaign)
                .bind(done.list_size as i64)
                .bind(done.list_modified_ns)
                .bind(&done.fingerprint)
                .bind(done.records as i64)
                .bind(done.accepted as i64)
                .bind(done.duplicates as i64)
                .bind(ignored)
                .bind(self.now_ms())
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        // The planner's statistics still describe the table before the import: with rows
        // counted as none, it chose to sort every pending row for each claim (30 ms a claim at
        // 100,000 rows, instead of 0.5 ms through the pending rows' index).
        sqlx::query("ANALYZE rows").execute(&self.pool).await?;
        Ok(())
    }

    /// The last import that read the whole list, if any.
    pub async fn last_import(&self) -> Result<Option<FinishedImport>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT list_size, list_modified_ns, fingerprint, records, accepted, duplicates,
                    ignored_columns
             FROM list_import WHERE campaign_id = $1",
        )
        .bind(self.campaign)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The rejects of the last import, by line.
    pub async fn rejects(&self) -> Result<Vec<Reject>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT line, reason, COALESCE(raw, '') AS raw, COALESCE(to_written, '') AS \"to\"
             FROM rejects WHERE campaign_id = $1 ORDER BY line",
        )
        .bind(self.campaign)
        .fetch_all(&self.pool)
        .await?)
    }
}
