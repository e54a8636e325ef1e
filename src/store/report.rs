//! Read-only queries for progress lines, the report and the export.

use super::{Store, StoreError};
use crate::domain::{CallSid, CallStatus, LineState, RowState};
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    pub pending: u64,
    pub dialing: u64,
    pub created: u64,
    pub failed: u64,
    pub unknown: u64,
    /// Pending rows that have been tried at least once (waiting for a retry).
    pub retrying: u64,
    pub rejected: u64,
    /// Never dialed: on a do-not-call list, or left pending when the campaign was canceled.
    pub suppressed: u64,
    pub canceled: u64,
}

impl StateCounts {
    pub fn rows(&self) -> u64 {
        self.pending
            + self.dialing
            + self.created
            + self.failed
            + self.unknown
            + self.suppressed
            + self.canceled
    }

    /// Rows no run will dial again.
    pub fn done(&self) -> u64 {
        self.created + self.failed + self.suppressed + self.canceled
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AttemptCounts {
    pub attempts: u64,
    pub by_outcome: Vec<(String, u64)>,
    /// Unix ms of the first attempt and of the last created call.
    pub first_attempt_at: Option<i64>,
    pub last_created_at: Option<i64>,
    /// Sorted queue_time of every created call, in ms.
    pub queue_times_ms: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureGroup {
    pub code: Option<u32>,
    pub message: String,
    pub rows: u64,
}

/// One list line as the export shows it: `to` and `label` as the line had them (a rejected
/// line's may not parse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RowExport {
    #[sqlx(try_from = "i64")]
    pub line: u64,
    #[sqlx(rename = "to_endpoint")]
    pub to: String,
    pub label: String,
    pub state: LineState,
    pub attempts: i64,
    pub call_sid: Option<CallSid>,
    pub queue_time_ms: Option<i64>,
    #[sqlx(rename = "last_code")]
    pub last_error_code: Option<i64>,
    /// The last error message of a row, or why a line was rejected at import.
    pub reason: Option<String>,
    /// For a rejected line whose `to` is already on an earlier line: that line.
    pub duplicate_of: Option<i64>,
    /// How the row's latest call ended (or where it is), once known.
    pub call_status: Option<CallStatus>,
    pub answered_by: Option<String>,
    pub duration_secs: Option<i64>,
}

impl Store {
    pub async fn state_counts(&self) -> Result<StateCounts, StoreError> {
        let mut counts = StateCounts::default();
        let rows = sqlx::query(
            "SELECT state, COUNT(*) AS n, SUM(attempts > 0) AS tried FROM rows GROUP BY state",
        )
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            let n = row.try_get::<i64, _>("n")? as u64;
            match row.try_get("state")? {
                RowState::Pending => {
                    counts.pending = n;
                    counts.retrying = row.try_get::<i64, _>("tried")? as u64;
                }
                RowState::Dialing => counts.dialing = n,
                RowState::Created => counts.created = n,
                RowState::Failed => counts.failed = n,
                RowState::Unknown => counts.unknown = n,
                RowState::Suppressed => counts.suppressed = n,
                RowState::Canceled => counts.canceled = n,
            }
        }
        counts.rejected = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM rejects")
            .fetch_one(&self.pool)
            .await? as u64;
        Ok(counts)
    }

    pub async fn attempt_counts(&self) -> Result<AttemptCounts, StoreError> {
        let mut counts = AttemptCounts::default();
        for row in sqlx::query(
            "SELECT outcome, COUNT(*) AS n FROM attempts GROUP BY outcome ORDER BY outcome",
        )
        .fetch_all(&self.pool)
        .await?
        {
            let n = row.try_get::<i64, _>("n")? as u64;
            counts.attempts += n;
            counts.by_outcome.push((row.try_get("outcome")?, n));
        }
        counts.first_attempt_at = sqlx::query_scalar("SELECT MIN(started_at) FROM attempts")
            .fetch_one(&self.pool)
            .await?;
        counts.last_created_at = sqlx::query_scalar("SELECT MAX(created_at) FROM rows")
            .fetch_one(&self.pool)
            .await?;
        counts.queue_times_ms = sqlx::query_scalar(
            "SELECT queue_time_ms FROM rows WHERE state = 'created' AND queue_time_ms IS NOT NULL ORDER BY queue_time_ms",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(counts)
    }

    /// Failed and unknown rows grouped by Twilio code and message.
    pub async fn failure_groups(&self) -> Result<Vec<FailureGroup>, StoreError> {
        let rows = sqlx::query(
            "SELECT last_code, COALESCE(last_message, '') AS message, COUNT(*) AS n FROM rows
             WHERE state IN ('failed', 'unknown') GROUP BY last_code, message ORDER BY n DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(FailureGroup {
                    code: row
                        .try_get::<Option<i64>, _>("last_code")?
                        .map(|c| c as u32),
                    message: row.try_get("message")?,
                    rows: row.try_get::<i64, _>("n")? as u64,
                })
            })
            .collect()
    }

    /// Every list line: imported rows with their state, and rejected lines with their reason
    /// (a duplicate shows the `to` and the line it repeats).
    pub async fn export_rows(&self) -> Result<Vec<RowExport>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT line, to_endpoint, label, state, attempts, call_sid, queue_time_ms, last_code,
                    CASE WHEN state IN ('failed', 'unknown', 'suppressed', 'canceled') OR (state = 'pending' AND attempts > 0)
                         THEN last_message END AS reason,
                    NULL AS duplicate_of, call_status, answered_by, duration_secs
             FROM rows
             UNION ALL
             SELECT j.line, COALESCE(earlier.to_endpoint, ''), '', 'rejected', 0, NULL, NULL, NULL, j.reason, earlier.line, NULL, NULL, NULL
             FROM rejects j LEFT JOIN rows earlier ON earlier.to_endpoint = j.raw
             ORDER BY line",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
