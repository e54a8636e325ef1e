//! A campaign's history read out of its database, table by table, inside one transaction that
//! reads one snapshot: SQLite's read transaction does, PostgreSQL's must be asked to (its
//! default gives each statement a snapshot of its own).

use crate::domain::CampaignStatus;
use crate::store::dialect::{Tx, on_tx};
use crate::store::{
    AttemptRecord, CallEventRecord, CampaignHistory, ConferenceRecord, ImportRecord, RejectRecord,
    RequeueRecord, RowRecord, RunRecord, StoreError,
};

/// Every table's part of `campaign`, rows and attempts in id order.
pub(super) async fn history(
    mut tx: Tx<'_, '_>,
    campaign: i64,
) -> Result<CampaignHistory, StoreError> {
    if let Tx::Postgres(tx) = &mut tx {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut ***tx)
            .await?;
    }
    on_tx!(tx, tx => {
        let (status, created_at): (CampaignStatus, i64) =
            sqlx::query_as("SELECT status, created_at FROM campaigns WHERE id = $1")
                .bind(campaign)
                .fetch_one(&mut **tx)
                .await?;
        let rows: Vec<RowRecord> = sqlx::query_as(
            "SELECT id, line, to_endpoint, label, params, state, attempts, failures,
                    attempts_before_requeue, next_attempt_at, call_sid, conference_sid, queue_time_ms, last_status,
                    last_code, last_message, created_at, timezone, timezone_source, call_status,
                    answered_by, duration_secs, outcome_at, outcome_final, updated_at
             FROM rows WHERE campaign_id = $1 ORDER BY id",
        )
        .bind(campaign)
        .fetch_all(&mut **tx)
        .await?;
        let attempts: Vec<AttemptRecord> = sqlx::query_as(
            "SELECT row_id, number, started_at, finished_at, outcome, http_status, twilio_code,
                    message, call_sid, queue_time_ms, call_status, answered_by, duration_secs
             FROM attempts WHERE campaign_id = $1 ORDER BY id",
        )
        .bind(campaign)
        .fetch_all(&mut **tx)
        .await?;
        let requeues: Vec<RequeueRecord> = sqlx::query_as(
            "SELECT row_id, requeued_at, attempts, was_code, was_message
             FROM requeues WHERE campaign_id = $1 ORDER BY id",
        )
        .bind(campaign)
        .fetch_all(&mut **tx)
        .await?;
        let call_events: Vec<CallEventRecord> = sqlx::query_as(
            "SELECT call_sid, source, sequence_number, call_status, answered_by, duration_secs,
                    params, received_at
             FROM call_events WHERE campaign_id = $1 ORDER BY id",
        )
        .bind(campaign)
        .fetch_all(&mut **tx)
        .await?;
        let rejects: Vec<RejectRecord> = sqlx::query_as(
            "SELECT line, reason, raw, to_written FROM rejects WHERE campaign_id = $1 ORDER BY line",
        )
        .bind(campaign)
        .fetch_all(&mut **tx)
        .await?;
        let mut conferences: Vec<ConferenceRecord> =
            sqlx::query_as("SELECT target, sid FROM conferences WHERE campaign_id = $1")
                .bind(campaign)
                .fetch_all(&mut **tx)
                .await?;
        // In byte order on both backends (PostgreSQL would sort text by its locale).
        conferences.sort_by(|a, b| a.target.cmp(&b.target));
        let runs: Vec<RunRecord> = sqlx::query_as(
            "SELECT started_at, finished_at, exit_code FROM runs WHERE campaign_id = $1 ORDER BY id",
        )
        .bind(campaign)
        .fetch_all(&mut **tx)
        .await?;
        let list_import: Option<ImportRecord> = sqlx::query_as(
            "SELECT list_size, list_modified_ns, fingerprint, records, accepted, duplicates,
                    ignored_columns, finished_at
             FROM list_import WHERE campaign_id = $1",
        )
        .bind(campaign)
        .fetch_optional(&mut **tx)
        .await?;
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
    })
}
