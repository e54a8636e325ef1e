//! The list into the store: rows brought in batch by batch, and what the last complete import
//! found (its rejects, its counts, and the fingerprint of what it read, so that a run over an
//! unchanged list need not read it again).

use super::{Store, StoreError, now_ms};
use crate::domain::{Endpoint, Label};
use crate::twilio::RowOverrides;
use sqlx::Row;
use std::collections::HashMap;

/// A valid list row on its way in.
#[derive(Debug, Clone)]
pub struct NewRow {
    pub line: u64,
    pub to: Endpoint,
    pub label: Label,
    /// This row's own values over the campaign's.
    pub params: RowOverrides,
}

/// What import did with a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// The same `to` was imported by an earlier run (from this line or, before the list
    /// changed, another: its row now gives this line).
    AlreadyImported,
    /// The same `to` is on an earlier line of this import: it is dialed once.
    DuplicateOf(u64),
    /// Another line already uses this label.
    LabelTaken(u64),
}
/// The rows one import of the list has met so far, by id (a bit each): a `to` met again in
/// the same import is a duplicate; one met for the first time is already imported, wherever
/// it stands in the list now.
#[derive(Debug, Default)]
pub struct ImportPass {
    met: Vec<u64>,
}

impl ImportPass {
    /// Marks the row met; true the first time.
    fn meet(&mut self, id: i64) -> bool {
        let (word, bit) = (id as usize / 64, id as usize % 64);
        if word >= self.met.len() {
            self.met.resize(word + 1, 0);
        }
        let first = self.met[word] & (1 << bit) == 0;
        self.met[word] |= 1 << bit;
        first
    }
}
/// A line of the list refused at import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub line: u64,
    pub reason: String,
    pub raw: String,
}

/// The counts of an import that read the list to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedImport {
    pub list_size: u64,
    pub list_modified_ns: i64,
    pub fingerprint: String,
    pub records: u64,
    /// Rows imported by it or by an earlier import.
    pub accepted: u64,
    pub duplicates: u64,
    pub ignored_columns: Vec<String>,
}

impl Store {
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
            "INSERT INTO rows (line, to_endpoint, label, params, updated_at)
             SELECT value ->> '$[0]', value ->> '$[1]', value ->> '$[2]', value ->> '$[3]', ?2
             FROM json_each(?1) WHERE true
             ON CONFLICT DO NOTHING
             RETURNING line, id",
        )
        .bind(&batch)
        .bind(now_ms())
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
                 WHERE to_endpoint IN (SELECT value FROM json_each(?))",
            )
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
            let line = row.line as i64;
            let result = match known.get_mut(row.to.as_str()) {
                _ if is_new(row) => Inserted::New,
                Some((id, known_line)) => {
                    if !pass.meet(*id) {
                        Inserted::DuplicateOf(*known_line as u64)
                    } else {
                        if *known_line != line {
                            moved.push((*id, line));
                            *known_line = line;
                        }
                        Inserted::AlreadyImported
                    }
                }
                None => {
                    let line: i64 = sqlx::query_scalar("SELECT line FROM rows WHERE label = ?")
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
        sqlx::query("DELETE FROM rejects").execute(&mut *tx).await?;
        for reject in rejects {
            sqlx::query("INSERT OR REPLACE INTO rejects (line, reason, raw) VALUES (?, ?, ?)")
                .bind(reject.line as i64)
                .bind(&reject.reason)
                .bind(&reject.raw)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM list_import")
            .execute(&mut *tx)
            .await?;
        if let Some(done) = done {
            let ignored = serde_json::to_string(&done.ignored_columns)
                .map_err(|e| StoreError::Corrupt(format!("ignored columns: {e}")))?;
            sqlx::query(
                "INSERT INTO list_import (id, list_size, list_modified_ns, fingerprint, records,
                 accepted, duplicates, ignored_columns, finished_at)
                 VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(done.list_size as i64)
            .bind(done.list_modified_ns)
            .bind(&done.fingerprint)
            .bind(done.records as i64)
            .bind(done.accepted as i64)
            .bind(done.duplicates as i64)
            .bind(ignored)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The last import that read the whole list, if any.
    pub async fn last_import(&self) -> Result<Option<FinishedImport>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT list_size, list_modified_ns, fingerprint, records, accepted, duplicates,
                    ignored_columns
             FROM list_import WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let ignored: String = row.try_get("ignored_columns")?;
        Ok(Some(FinishedImport {
            list_size: row.try_get::<i64, _>("list_size")? as u64,
            list_modified_ns: row.try_get("list_modified_ns")?,
            fingerprint: row.try_get("fingerprint")?,
            records: row.try_get::<i64, _>("records")? as u64,
            accepted: row.try_get::<i64, _>("accepted")? as u64,
            duplicates: row.try_get::<i64, _>("duplicates")? as u64,
            ignored_columns: serde_json::from_str(&ignored)
                .map_err(|e| StoreError::Corrupt(format!("ignored columns: {e}")))?,
        }))
    }

    /// The rejects of the last import, by line.
    pub async fn rejects(&self) -> Result<Vec<Reject>, StoreError> {
        let rows = sqlx::query("SELECT line, reason, raw FROM rejects ORDER BY line")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Reject {
                    line: row.try_get::<i64, _>("line")? as u64,
                    reason: row.try_get("reason")?,
                    raw: row.try_get::<Option<String>, _>("raw")?.unwrap_or_default(),
                })
            })
            .collect()
    }
}
