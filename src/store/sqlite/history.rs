//! A campaign's whole history read out of the file, in one read transaction (one snapshot:
//! a `dialer campaign pause` or a callback written meanwhile is either all in it or not at
//! all), for `dialer move`. Nothing is written.

use crate::domain::CampaignStatus;
use crate::store::SqliteStore;
use crate::store::{
    AttemptRecord, CallEventRecord, CampaignHistory, ConferenceRecord, ImportRecord, RejectRecord,
    RequeueRecord, RowRecord, RunRecord, StoreError,
};

impl SqliteStore {
    /// Every table's part of this campaign, rows and attempts in id order.
    pub async fn history(&self) -> Result<CampaignHistory, StoreError> {
        let mut tx = self.pool.begin().await?;
        let (status, created_at): (CampaignStatus, i64) =
            sqlx::query_as("SELECT status, created_at FROM campaigns WHERE id = ?")
                .bind(self.campaign)
                .fetch_one(&mut *tx)
                .await?;
        let rows: Vec<RowRecord> = sqlx::query_as(
            "SELECT id, line, to_endpoint, label, params, state, attempts, failures,
                    attempts_before_requeue, next_attempt_at, call_sid, conference_sid, queue_time_ms, last_status,
                    last_code, last_message, created_at, timezone, timezone_source, call_status,
                    answered_by, duration_secs, outcome_at, outcome_final, updated_at
             FROM rows WHERE campaign_id = ? ORDER BY id",
        )
        .bind(self.campaign)
        .fetch_all(&mut *tx)
        .await?;
        let attempts: Vec<AttemptRecord> = sqlx::query_as(
            "SELECT row_id, number, started_at, finished_at, outcome, http_status, twilio_code,
                    message, call_sid, queue_time_ms, call_status, answered_by, duration_secs
             FROM attempts WHERE campaign_id = ? ORDER BY id",
        )
        .bind(self.campaign)
        .fetch_all(&mut *tx)
        .await?;
        let requeues: Vec<RequeueRecord> = sqlx::query_as(
            "SELECT row_id, requeued_at, attempts, was_code, was_message
             FROM requeues WHERE campaign_id = ? ORDER BY id",
        )
        .bind(self.campaign)
        .fetch_all(&mut *tx)
        .await?;
        let call_events: Vec<CallEventRecord> = sqlx::query_as(
            "SELECT call_sid, source, sequence_number, call_status, answered_by, duration_secs,
                    params, received_at
             FROM call_events WHERE campaign_id = ? ORDER BY id",
        )
        .bind(self.campaign)
        .fetch_all(&mut *tx)
        .await?;
        let rejects: Vec<RejectRecord> = sqlx::query_as(
            "SELECT line, reason, raw, to_written FROM rejects WHERE campaign_id = ? ORDER BY line",
        )
        .bind(self.campaign)
        .fetch_all(&mut *tx)
        .await?;
        let conferences: Vec<ConferenceRecord> = sqlx::query_as(
            "SELECT target, sid FROM conferences WHERE campaign_id = ? ORDER BY target",
        )
        .bind(self.campaign)
        .fetch_all(&mut *tx)
        .await?;
        let runs: Vec<RunRecord> = sqlx::query_as(
            "SELECT started_at, finished_at, exit_code FROM runs WHERE campaign_id = ? ORDER BY id",
        )
        .bind(self.campaign)
        .fetch_all(&mut *tx)
        .await?;
        let list_import: Option<ImportRecord> = sqlx::query_as(
            "SELECT list_size, list_modified_ns, fingerprint, records, accepted, duplicates,
                    ignored_columns, finished_at
             FROM list_import WHERE campaign_id = ?",
        )
        .bind(self.campaign)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(CampaignHistory {
            status,
            created_at,
            rows,
            attempts,
            requeues,
            call_events,
            rejects,
            conferences,
            runs,
            list_import,
        })
    }
}
