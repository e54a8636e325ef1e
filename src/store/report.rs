//! Read-only queries for progress lines, the report and the export, each written once for both
//! backends. Counts use `COUNT(*) FILTER (...)` and casts use `CAST`, which both dialects read;
//! text is sorted here rather than in SQL, as PostgreSQL's default collation is the locale's.

use super::dialect::on_backend;
use super::{AttemptCounts, FailureGroup, RowExport, StateCounts, Store, StoreError, ZoneSources};
use crate::domain::{Jurisdictions, RowState};

impl Store {
    /// How many rows belong to each set of jurisdictions (rows outside the US left out).
    pub async fn rows_by_jurisdictions(&self) -> Result<Vec<(Jurisdictions, u64)>, StoreError> {
        let counted: Vec<(Jurisdictions, i64)> = on_backend!(self, db => sqlx::query_as(
            "SELECT jurisdictions, COUNT(*) FROM rows
             WHERE campaign_id = $1 AND jurisdictions IS NOT NULL AND jurisdictions <> ''
             GROUP BY jurisdictions",
        )
        .bind(db.campaign)
        .fetch_all(&db.pool)
        .await?);
        Ok(counted
            .into_iter()
            .map(|(j, n)| (j, n.max(0) as u64))
            .collect())
    }

    /// How many rows got their zone from the list, the number's prefix, or the campaign.
    pub async fn zone_sources(&self) -> Result<ZoneSources, StoreError> {
        let rows: Vec<(String, i64)> = on_backend!(self, db => sqlx::query_as(
            "SELECT CASE WHEN timezone IS NULL THEN 'campaign'
                         ELSE COALESCE(timezone_source, 'unrecorded') END AS source, COUNT(*)
             FROM rows WHERE campaign_id = $1 GROUP BY 1",
        )
        .bind(db.campaign)
        .fetch_all(&db.pool)
        .await?);
        let mut sources = ZoneSources::default();
        for (source, n) in rows {
            sources.add(&source, n);
        }
        Ok(sources)
    }

    pub async fn state_counts(&self) -> Result<StateCounts, StoreError> {
        let mut counts = StateCounts::default();
        let (rows, rejected): (Vec<(RowState, i64, i64)>, i64) = on_backend!(self, db => (
            sqlx::query_as(
                "SELECT state, COUNT(*) AS n, COUNT(*) FILTER (WHERE attempts > 0) AS tried FROM rows
                 WHERE campaign_id = $1 GROUP BY state",
            )
            .bind(db.campaign)
            .fetch_all(&db.pool)
            .await?,
            sqlx::query_scalar("SELECT COUNT(*) FROM rejects WHERE campaign_id = $1")
                .bind(db.campaign)
                .fetch_one(&db.pool)
                .await?,
        ));
        for (state, n, tried) in rows {
            counts.add(state, n as u64, tried as u64);
        }
        counts.rejected = rejected as u64;
        Ok(counts)
    }

    pub async fn attempt_counts(&self) -> Result<AttemptCounts, StoreError> {
        let mut counts = AttemptCounts::default();
        let mut by_outcome: Vec<(String, i64)> = on_backend!(self, db => {
            (counts.first_attempt_at, counts.last_created_at) = sqlx::query_as(
                "SELECT (SELECT MIN(started_at) FROM attempts WHERE campaign_id = $1),
                        (SELECT MAX(created_at) FROM rows WHERE campaign_id = $1)",
            )
            .bind(db.campaign)
            .fetch_one(&db.pool)
            .await?;
            counts.queue_times_ms = sqlx::query_scalar(
                "SELECT queue_time_ms FROM rows
                 WHERE campaign_id = $1 AND state = 'created' AND queue_time_ms IS NOT NULL ORDER BY queue_time_ms",
            )
            .bind(db.campaign)
            .fetch_all(&db.pool)
            .await?;
            sqlx::query_as(
                "SELECT outcome, COUNT(*) AS n FROM attempts WHERE campaign_id = $1 GROUP BY outcome",
            )
            .bind(db.campaign)
            .fetch_all(&db.pool)
            .await?
        });
        // Byte order, whatever the database's collation.
        by_outcome.sort_unstable();
        for (outcome, n) in by_outcome {
            counts.attempts += n as u64;
            counts.by_outcome.push((outcome, n as u64));
        }
        Ok(counts)
    }

    /// Failed and unknown rows grouped by Twilio code and message.
    pub async fn failure_groups(&self) -> Result<Vec<FailureGroup>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_as(
            "SELECT last_code, COALESCE(last_message, '') AS message, COUNT(*) AS n FROM rows
             WHERE campaign_id = $1 AND state IN ('failed', 'unknown')
             GROUP BY last_code, message ORDER BY n DESC",
        )
        .bind(db.campaign)
        .fetch_all(&db.pool)
        .await?))
    }

    /// Every list line: imported rows with their state, and rejected lines with their reason
    /// and their `to` as the list wrote it (a duplicate also the line it repeats; a line
    /// refused before `to_written` existed shows a duplicate's stored number, others none).
    pub async fn export_rows(&self) -> Result<Vec<RowExport>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_as(
            "SELECT line, to_endpoint, label, state, attempts, call_sid, queue_time_ms, last_code,
                    CASE WHEN state IN ('failed', 'unknown', 'suppressed', 'canceled') OR (state = 'pending' AND (attempts > 0 OR last_message IS NOT NULL))
                         THEN last_message END AS reason,
                    CAST(NULL AS BIGINT) AS duplicate_of, call_status, answered_by, duration_secs,
                    COALESCE(n.requeues, 0) AS requeues, requeued_at, requeued_attempts,
                    requeued_code, requeued_message,
                    CASE WHEN state IN ('pending', 'unknown') THEN next_attempt_at END AS next_attempt_at,
                    CASE WHEN state = 'pending' AND attempts = 0 THEN held_by END AS held_by, timezone,
                    NULLIF(jurisdictions, '') AS jurisdictions
             FROM rows
             -- The row's requeues: how many, and the last one.
             LEFT JOIN (SELECT row_id AS requeued_row, COUNT(*) AS requeues, MAX(id) AS last_requeue
                        FROM requeues WHERE campaign_id = $1 GROUP BY row_id) n ON n.requeued_row = rows.id
             LEFT JOIN (SELECT id AS requeue_id, requeued_at, attempts AS requeued_attempts,
                               was_code AS requeued_code, was_message AS requeued_message
                        FROM requeues) q ON q.requeue_id = n.last_requeue
             WHERE campaign_id = $1
             UNION ALL
             SELECT j.line, COALESCE(j.to_written, earlier.to_endpoint, ''), '', 'rejected', 0, NULL, NULL, NULL, j.reason,
                    earlier.line, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
             FROM rejects j
             LEFT JOIN rows earlier ON earlier.campaign_id = $1 AND earlier.to_endpoint = j.raw
             WHERE j.campaign_id = $1
             ORDER BY line",
        )
        .bind(db.campaign)
        .fetch_all(&db.pool)
        .await?))
    }
}
