//! The list into the store: rows brought in batch by batch, and what the last complete import
//! found (its rejects, its counts, and the fingerprint of what it read, so that a run over an
//! unchanged list need not read it again).

use super::SqliteStore;
use crate::store::{FinishedImport, ImportPass, Inserted, NewRow, Reject, StoreError};
use std::collections::HashMap;

impl SqliteStore {
    /// Inserts a batch of rows in one transaction, with one statement for the whole batch
    /// (a statement per row made re-importing a million-row list take about a minute).
    pub async fn import_rows(
        &self,
        pass: &mut ImportPass,
        rows: &[NewRow],
    ) -> Result<Vec<Inserted>, StoreError> {
        let batch: Vec<_> = rows
            .iter()
            .map(|r| (r.line, r.to.as_str(), r.label.as_str(), r.params.to_json()))
            .collect();
        let batch = serde_json::to_string(&batch).expect("strings and integers serialize");
        let mut tx = self.pool.begin().await?;
        // In list order, so a number listed twice in one batch keeps its first line.
        let inserted: HashMap<i64, i64> = sqlx::query_as(
            "INSERT INTO rows (campaign_id, line, to_endpoint, label, params, updated_at)
             SELECT ?3, value ->> '$[0]', value ->> '$[1]', value ->> '$[2]', value ->> '$[3]', ?2
             FROM json_each(?1) WHERE true
             ON CONFLICT DO NOTHING
             RETURNING line, id",
        )
        .bind(&batch)
        .bind(self.now_ms())
        .bind(self.campaign)
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
        // `to` → (row id, the line it stands on in this import, or stood on before).
        let mut known: HashMap<String, (i64, i64)> = HashMap::new();
        if !taken.is_empty() {
            let taken = serde_json::to_string(&taken).expect("strings serialize");
            let found: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT to_endpoint, id, line FROM rows
                 WHERE campaign_id = ? AND to_endpoint IN (SELECT value FROM json_each(?))",
            )
            .bind(self.campaign)
            .bind(taken)
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
                        "SELECT line FROM rows WHERE campaign_id = ? AND label = ?",
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
            sqlx::query(
                "UPDATE rows SET line = moved.value ->> '$[1]'
                 FROM json_each(?) AS moved WHERE rows.id = moved.value ->> '$[0]'",
            )
            .bind(serde_json::to_string(&moved).expect("integers serialize"))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(results)
    }

    /// Records the import's rejects (replacing the previous import's) and, in the same
    /// transaction, what it read when it read the whole list (`None`: it stopped short, so the
    /// next run reads it all again). A run killed mid-import changes neither.
    pub async fn finish_import(
        &self,
        rejects: &[Reject],
        done: Option<&FinishedImport>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM rejects WHERE campaign_id = ?")
            .bind(self.campaign)
            .execute(&mut *tx)
            .await?;
        for reject in rejects {
            sqlx::query(
                "INSERT OR REPLACE INTO rejects (campaign_id, line, reason, raw, to_written)
                 VALUES (?, ?, ?, ?, NULLIF(?, ''))",
            )
            .bind(self.campaign)
            .bind(reject.line as i64)
            .bind(&reject.reason)
            .bind(&reject.raw)
            .bind(&reject.to)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM list_import WHERE campaign_id = ?")
            .bind(self.campaign)
            .execute(&mut *tx)
            .await?;
        if let Some(done) = done {
            let ignored = serde_json::to_string(&done.ignored_columns)
                .map_err(|e| StoreError::Corrupt(format!("ignored columns: {e}")))?;
            sqlx::query(
                "INSERT INTO list_import (campaign_id, list_size, list_modified_ns, fingerprint,
                 records, accepted, duplicates, ignored_columns, finished_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        tx.commit().await?;
        Ok(())
    }

    /// The last import that read the whole list, if any.
    pub async fn last_import(&self) -> Result<Option<FinishedImport>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT list_size, list_modified_ns, fingerprint, records, accepted, duplicates,
                    ignored_columns
             FROM list_import WHERE campaign_id = ?",
        )
        .bind(self.campaign)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The rejects of the last import, by line.
    pub async fn rejects(&self) -> Result<Vec<Reject>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT line, reason, COALESCE(raw, '') AS raw, COALESCE(to_written, '') AS \"to\"
             FROM rejects WHERE campaign_id = ? ORDER BY line",
        )
        .bind(self.campaign)
        .fetch_all(&self.pool)
        .await?)
    }
}
