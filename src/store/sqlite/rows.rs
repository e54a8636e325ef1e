//! Rows and attempts: the atomic claim, and every state change of a row after import.
//!
//! pending --claim--> dialing --created--> created
//!                       |------retry----> pending (later)
//!                       |------failed---> failed
//!                       '------unknown--> unknown --reconcile--> created | pending | unknown

use super::SqliteStore;
use crate::domain::RowState;
use crate::store::model::rows::Written;
use crate::store::{Claimed, Outcome, StoreError};
use std::time::Duration;

/// Changes this far "in the future" are read as a clock step back, not as clock jitter.
const CLOCK_STEP_MARGIN_MS: i64 = 5_000;

impl SqliteStore {
    /// After a crash, a `dialing` row's request may have reached Twilio: it must be
    /// reconciled, never simply re-dialed. Only called while holding the campaign lock.
    pub async fn mark_orphans_unknown(
        &self,
        _request_timeout: Duration,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE attempts SET outcome = 'unknown', message = 'the run stopped before the answer was recorded' WHERE campaign_id = ? AND outcome = 'sending'")
            .bind(self.campaign)
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query("UPDATE rows SET state = 'unknown', next_attempt_at = 0, updated_at = ? WHERE campaign_id = ? AND state = 'dialing'")
            .bind(self.now_ms())
            .bind(self.campaign)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// A row changed "in the future" was changed before the system clock stepped back (an NTP
    /// step, a VM restored from a snapshot): its due time moves back by the same step, so the
    /// step delays nothing. Returns how many rows moved.
    pub async fn undo_clock_step(&self) -> Result<u64, StoreError> {
        let now = self.now_ms();
        let moved = sqlx::query(
            "UPDATE rows SET next_attempt_at = next_attempt_at - (updated_at - ?1), updated_at = ?1
             WHERE campaign_id = ?3 AND updated_at > ?1 + ?2",
        )
        .bind(now)
        .bind(CLOCK_STEP_MARGIN_MS)
        .bind(self.campaign)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(moved)
    }

    /// Claims the next due pending row and records its attempt, durably, in one transaction.
    pub async fn claim_next(&self) -> Result<Option<Claimed>, StoreError> {
        let now = self.now_ms();
        let mut tx = self.pool.begin().await?;
        let claimed: Option<Claimed> = sqlx::query_as(
            "UPDATE rows SET state = 'dialing', attempts = attempts + 1, updated_at = ?1
             WHERE id = (SELECT id FROM rows WHERE campaign_id = ?2 AND state = 'pending'
                         AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT 1)
             RETURNING id, line, to_endpoint, label, params, attempts, failures, ?1 AS started_at",
        )
        .bind(now)
        .bind(self.campaign)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(claimed) = claimed else {
            return Ok(None);
        };
        sqlx::query(
            "INSERT INTO attempts (campaign_id, row_id, number, started_at) VALUES (?, ?, ?, ?)",
        )
        .bind(self.campaign)
        .bind(claimed.row_id)
        .bind(claimed.attempt)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(claimed))
    }

    /// Undoes a claim whose request was never sent: the attempt is removed and the row is
    /// pending again from `at`.
    pub async fn release(&self, claimed: &Claimed, at: i64, why: &str) -> Result<(), StoreError> {
        self.unclaim(claimed, RowState::Pending, at, why).await
    }

    /// Undoes a claim for a number that must never be dialed.
    pub async fn suppress(&self, claimed: &Claimed, why: &str) -> Result<(), StoreError> {
        self.unclaim(claimed, RowState::Suppressed, 0, why).await
    }

    async fn unclaim(
        &self,
        claimed: &Claimed,
        state: RowState,
        at: i64,
        why: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM attempts WHERE row_id = ? AND number = ? AND outcome = 'sending'")
            .bind(claimed.row_id)
            .bind(claimed.attempt)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE rows SET state = ?, attempts = attempts - 1, next_attempt_at = ?, last_message = ?, updated_at = ?
             WHERE id = ? AND state = 'dialing' AND attempts = ?",
        )
        .bind(state)
        .bind(at)
        .bind(why)
        .bind(self.now_ms())
        .bind(claimed.row_id)
        .bind(claimed.attempt)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records how an attempt ended, fenced on the row still being ours.
    pub async fn record(&self, claimed: &Claimed, outcome: &Outcome) -> Result<(), StoreError> {
        let now = self.now_ms();
        let mut tx = self.pool.begin().await?;
        let written = Written::of(outcome);
        // A callback may have named this attempt's call while its request was in flight.
        sqlx::query(
            "UPDATE attempts SET outcome = ?, finished_at = ?, http_status = ?, twilio_code = ?, message = ?,
             call_sid = COALESCE(?, call_sid), queue_time_ms = ? WHERE row_id = ? AND number = ?",
        )
        .bind(written.outcome)
        .bind(now)
        .bind(written.http_status)
        .bind(written.code)
        .bind(written.message)
        .bind(written.call_sid)
        .bind(written.queue_time_ms)
        .bind(claimed.row_id)
        .bind(claimed.attempt)
        .execute(&mut *tx)
        .await?;
        let fenced = match outcome {
            Outcome::Created { call_sid, conference_sid, queue_time_ms, status } => sqlx::query(
                "UPDATE rows SET state = 'created', call_sid = ?, conference_sid = ?, queue_time_ms = ?,
                 last_status = ?, last_code = NULL, last_message = NULL, created_at = ?, updated_at = ?,
                 call_status = NULL, answered_by = NULL, duration_secs = NULL, outcome_at = NULL, outcome_final = 0
                 WHERE id = ? AND state = 'dialing' AND attempts = ?",
            )
            .bind(call_sid)
            .bind(conference_sid)
            .bind(queue_time_ms)
            .bind(status)
            .bind(now)
            .bind(now),
            Outcome::Retry { at, counts, http_status, code, message } => sqlx::query(
                "UPDATE rows SET state = 'pending', next_attempt_at = ?, failures = failures + ?,
                 last_status = ?, last_code = ?, last_message = ?, updated_at = ?
                 WHERE id = ? AND state = 'dialing' AND attempts = ?",
            )
            .bind(at)
            .bind(i64::from(*counts))
            .bind(http_status)
            .bind(code)
            .bind(message)
            .bind(now),
            Outcome::Failed { http_status, code, message } => sqlx::query(
                "UPDATE rows SET state = 'failed', failures = failures + 1, last_status = ?, last_code = ?,
                 last_message = ?, updated_at = ? WHERE id = ? AND state = 'dialing' AND attempts = ?",
            )
            .bind(http_status)
            .bind(code)
            .bind(message)
            .bind(now),
            Outcome::Unknown { check_at, http_status, code, message } => sqlx::query(
                "UPDATE rows SET state = 'unknown', next_attempt_at = ?, last_status = ?, last_code = ?,
                 last_message = ?, updated_at = ? WHERE id = ? AND state = 'dialing' AND attempts = ?",
            )
            .bind(check_at)
            .bind(http_status)
            .bind(code)
            .bind(message)
            .bind(now),
        }
        .bind(claimed.row_id)
        .bind(claimed.attempt)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if fenced != 1 {
            return Err(StoreError::Corrupt(format!(
                "row {} was not in dialing state for attempt {}",
                claimed.row_id, claimed.attempt
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Under the campaign's lock, every `dialing` row is this run's.
    pub async fn dialing_elsewhere(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    /// Under the campaign's lock, no lease runs out.
    pub async fn extend_leases(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    /// When the next pending row falls due (unix ms), if any. Each state's query reads its
    /// own partial index, so this stays cheap on a million-row campaign.
    pub async fn next_pending_at(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM rows WHERE campaign_id = ? AND state = 'pending'",
        )
        .bind(self.campaign)
        .fetch_one(&self.pool)
        .await?)
    }
}
