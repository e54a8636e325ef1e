//! What the last complete import of the list found: its rejects, its counts, and the
//! fingerprint of what it read, so that a run over an unchanged list need not read it again.

use super::{Store, StoreError, now_ms};
use sqlx::Row;

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
