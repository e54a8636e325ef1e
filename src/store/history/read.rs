//! A campaign's history read out of its database, table by table, inside one transaction that
//! reads one snapshot: SQLite's read transaction does, PostgreSQL's must be asked to (its
//! default gives each statement a snapshot of its own).

use crate::store::dialect::{Tx, on_tx};
use crate::store::{CampaignHistory, StoreError};

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
    let mut history = on_tx!(tx, tx => {
        let (status, created_at) =
            sqlx::query_as("SELECT status, created_at FROM campaigns WHERE id = $1")
                .bind(campaign)
                .fetch_one(&mut **tx)
                .await?;
        CampaignHistory {
            status,
            created_at,
            rows: sqlx::query_as(
                "SELECT id, line, to_endpoint, label, params, state, attempts, failures,
                        attempts_before_requeue, next_attempt_at, call_sid, conference_sid, queue_time_ms, last_status,
                        last_code, last_message, created_at, timezone, timezone_source, call_status,
                        answered_by, duration_secs, outcome_at, outcome_final, updated_at, held_by,
                        jurisdictions, person
                 FROM rows WHERE campaign_id = $1 ORDER BY id",
            )
            .bind(campaign)
            .fetch_all(&mut **tx)
            .await?,
            attempts: sqlx::query_as(
                "SELECT row_id, number, started_at, finished_at, outcome, http_status, twilio_code,
                        message, call_sid, queue_time_ms, call_status, answered_by, duration_secs, holder
                 FROM attempts WHERE campaign_id = $1 ORDER BY id",
            )
            .bind(campaign)
            .fetch_all(&mut **tx)
            .await?,
            requeues: sqlx::query_as(
                "SELECT row_id, requeued_at, attempts, was_code, was_message
                 FROM requeues WHERE campaign_id = $1 ORDER BY id",
            )
            .bind(campaign)
            .fetch_all(&mut **tx)
            .await?,
            call_events: sqlx::query_as(
                "SELECT call_sid, source, sequence_number, call_status, answered_by, duration_secs,
                        params, received_at
                 FROM call_events WHERE campaign_id = $1 ORDER BY id",
            )
            .bind(campaign)
            .fetch_all(&mut **tx)
            .await?,
            rejects: sqlx::query_as(
                "SELECT line, reason, raw, to_written FROM rejects WHERE campaign_id = $1 ORDER BY line",
            )
            .bind(campaign)
            .fetch_all(&mut **tx)
            .await?,
            conferences: sqlx::query_as("SELECT target, sid FROM conferences WHERE campaign_id = $1")
                .bind(campaign)
                .fetch_all(&mut **tx)
                .await?,
            runs: sqlx::query_as(
                "SELECT started_at, finished_at, exit_code, host, ending, holder FROM runs WHERE campaign_id = $1 ORDER BY id",
            )
            .bind(campaign)
            .fetch_all(&mut **tx)
            .await?,
            // The database's, not the campaign's: moved with it so that nobody who asked
            // not to be called is called from the new database.
            opt_outs: sqlx::query_as(
                "SELECT number, added_at, expires_at, source, note FROM opt_outs ORDER BY id",
            )
            .fetch_all(&mut **tx)
            .await?,
            list_import: sqlx::query_as(
                "SELECT list_size, list_modified_ns, fingerprint, records, accepted, duplicates,
                        ignored_columns, finished_at
                 FROM list_import WHERE campaign_id = $1",
            )
            .bind(campaign)
            .fetch_optional(&mut **tx)
            .await?,
        }
    });
    // In byte order on both backends (PostgreSQL would sort text by its locale).
    history.conferences.sort_by(|a, b| a.target.cmp(&b.target));
    Ok(history)
}
