//! Rows in doubt: an attempt whose outcome is unknown (a timeout, a dropped connection, a 5xx,
//! a kill mid-request) is reconciled against Twilio before anyone is dialed again.
//!
//! unknown --found at Twilio--> created
//!         --not at Twilio----> pending (may be dialed again)
//!         --Twilio unreachable--> unknown (checked again later)

use super::{Store, StoreError, now_ms};
use sqlx::Row;

/// A row whose last attempt may or may not have created a call.
#[derive(Debug, Clone)]
pub struct Unresolved {
    pub row_id: i64,
    pub to: String,
    pub label: String,
    pub params: String,
    /// When the attempt in doubt was started (unix ms).
    pub attempt_started_at: i64,
}

impl Store {
    /// Rows in doubt whose check is due.
    pub async fn due_unresolved(&self, limit: i64) -> Result<Vec<Unresolved>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.id, r.to_endpoint, r.label, r.params,
                    (SELECT MAX(a.started_at) FROM attempts a WHERE a.row_id = r.id) AS started_at
             FROM rows r WHERE r.state = 'unknown' AND r.next_attempt_at <= ?
             ORDER BY r.next_attempt_at, r.id LIMIT ?",
        )
        .bind(now_ms())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Unresolved {
                    row_id: row.try_get("id")?,
                    to: row.try_get("to_endpoint")?,
                    label: row.try_get("label")?,
                    params: row.try_get("params")?,
                    attempt_started_at: row.try_get("started_at")?,
                })
            })
            .collect()
    }

    /// Twilio has the call: the row is created, by the attempt in doubt.
    pub async fn resolve_found(
        &self,
        row: &Unresolved,
        call_sid: &str,
        conference_sid: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE attempts SET outcome = 'found', call_sid = ?, finished_at = COALESCE(finished_at, ?)
             WHERE row_id = ? AND number = (SELECT attempts FROM rows WHERE id = ?)",
        )
        .bind(call_sid)
        .bind(now)
        .bind(row.row_id)
        .bind(row.row_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE rows SET state = 'created', call_sid = ?, conference_sid = COALESCE(?, conference_sid),
             last_message = 'found at Twilio after an unknown outcome', created_at = ?, updated_at = ?,
             call_status = NULL, answered_by = NULL, duration_secs = NULL, outcome_at = NULL, outcome_final = 0
             WHERE id = ? AND state = 'unknown'",
        )
        .bind(call_sid)
        .bind(conference_sid)
        .bind(now)
        .bind(now)
        .bind(row.row_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Twilio has no such call: the attempt never took effect, the row may be dialed again at `at`.
    pub async fn resolve_not_created(&self, row: &Unresolved, at: i64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE attempts SET outcome = 'not_created' WHERE row_id = ? AND number = (SELECT attempts FROM rows WHERE id = ?)",
        )
        .bind(row.row_id)
        .bind(row.row_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE rows SET state = 'pending', failures = failures + 1, next_attempt_at = ?, updated_at = ?
             WHERE id = ? AND state = 'unknown'",
        )
        .bind(at)
        .bind(now_ms())
        .bind(row.row_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Twilio could not be asked: check again at `at` (or in the next run).
    pub async fn postpone_unresolved(
        &self,
        row: &Unresolved,
        at: i64,
        why: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE rows SET next_attempt_at = ?, last_message = ?, updated_at = ? WHERE id = ? AND state = 'unknown'")
            .bind(at)
            .bind(why)
            .bind(now_ms())
            .bind(row.row_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// How many rows are in doubt (read from their partial index).
    pub async fn unknown_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rows WHERE state = 'unknown'")
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }
}
