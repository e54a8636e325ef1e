//! Rows in doubt: an attempt whose outcome is unknown (a timeout, a dropped connection, a 5xx,
//! a kill mid-request) is reconciled against Twilio before anyone is dialed again.
//!
//! unknown --a callback names the attempt, or found at Twilio--> created
//!         --not at Twilio, and still not after the grace----------> pending (may be dialed again)
//!         --Twilio unreachable, or not at Twilio yet---------------> unknown (checked again later)

use super::{SqliteStore, Tx};
use crate::domain::{AttemptToken, CallSid, ConferenceSid};
use crate::store::{StoreError, Unresolved};

impl SqliteStore {
    /// Rows in doubt whose check is due.
    pub async fn due_unresolved(&self, limit: i64) -> Result<Vec<Unresolved>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT r.id, r.to_endpoint, r.label, r.params, r.attempts, r.failures,
                    a.started_at, a.finished_at, a.call_sid, a.message
             FROM rows r JOIN attempts a ON a.row_id = r.id AND a.number = r.attempts
             WHERE r.campaign_id = ? AND r.state = 'unknown' AND r.next_attempt_at <= ?
             ORDER BY r.next_attempt_at, r.id LIMIT ?",
        )
        .bind(self.campaign)
        .bind(self.now_ms())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Twilio has the call: the row is created, by the attempt in doubt.
    pub async fn resolve_found(
        &self,
        row: &Unresolved,
        call_sid: &CallSid,
        conference_sid: Option<&ConferenceSid>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let found = Found {
            campaign: self.campaign,
            row_id: row.row_id,
            attempt: row.attempt,
            call_sid,
            conference_sid,
            how: "found at Twilio after an unknown outcome",
            at_ms: self.now_ms(),
        };
        found.mark(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Twilio has no such call: the attempt never took effect, the row may be dialed again at
    /// `at`, unless `given_up` says why it is not (then it is failed, with that reason).
    pub async fn resolve_not_created(
        &self,
        row: &Unresolved,
        at: i64,
        given_up: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query(
            "UPDATE rows SET state = CASE WHEN ?1 IS NULL THEN 'pending' ELSE 'failed' END,
             last_message = COALESCE(?1, last_message), failures = failures + 1,
             next_attempt_at = ?2, updated_at = ?3
             WHERE id = ?4 AND state = 'unknown' AND attempts = ?5",
        )
        .bind(given_up)
        .bind(at)
        .bind(self.now_ms())
        .bind(row.row_id)
        .bind(row.attempt)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 1 {
            sqlx::query(
                "UPDATE attempts SET outcome = 'not_created' WHERE row_id = ? AND number = ?",
            )
            .bind(row.row_id)
            .bind(row.attempt)
            .execute(&mut *tx)
            .await?;
        }
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
            .bind(self.now_ms())
            .bind(row.row_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// How many rows are in doubt (read from their partial index).
    pub async fn unknown_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM rows WHERE campaign_id = ? AND state = 'unknown'",
        )
        .bind(self.campaign)
        .fetch_one(&self.pool)
        .await?;
        Ok(n as u64)
    }
}

/// Proof that an attempt in doubt created its call.
pub(super) struct Found<'a> {
    pub campaign: i64,
    pub row_id: i64,
    pub attempt: i64,
    pub call_sid: &'a CallSid,
    pub conference_sid: Option<&'a ConferenceSid>,
    /// What proved it, for the row's last message.
    pub how: &'static str,
    /// When it was proved, on the store's clock.
    pub at_ms: i64,
}

impl Found<'_> {
    /// Marks the attempt found and its row created; fenced on the row still being in doubt
    /// on that attempt (0 rows changed = someone else settled it first).
    pub(super) async fn mark(&self, tx: &mut Tx<'_>) -> Result<bool, StoreError> {
        let now = self.at_ms;
        let changed = sqlx::query(
            "UPDATE rows SET state = 'created', call_sid = ?, conference_sid = COALESCE(?, conference_sid),
             last_message = ?, created_at = ?, updated_at = ?,
             call_status = NULL, answered_by = NULL, duration_secs = NULL, outcome_at = NULL, outcome_final = 0
             WHERE campaign_id = ? AND id = ? AND state = 'unknown' AND attempts = ?",
        )
        .bind(self.call_sid)
        .bind(self.conference_sid)
        .bind(self.how)
        .bind(now)
        .bind(now)
        .bind(self.campaign)
        .bind(self.row_id)
        .bind(self.attempt)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if changed == 1 {
            sqlx::query(
                "UPDATE attempts SET outcome = 'found', call_sid = ?, finished_at = COALESCE(finished_at, ?)
                 WHERE row_id = ? AND number = ?",
            )
            .bind(self.call_sid)
            .bind(now)
            .bind(self.row_id)
            .bind(self.attempt)
            .execute(&mut **tx)
            .await?;
        }
        Ok(changed == 1)
    }
}

/// A signed status callback named `token`'s attempt and its call: the attempt has that call,
/// and a row in doubt on that attempt is created at once (the create's answer was lost, the
/// call was not).
pub(super) async fn name_attempt_call(
    tx: &mut Tx<'_>,
    campaign: i64,
    token: AttemptToken,
    call_sid: &CallSid,
    at_ms: i64,
) -> Result<(), StoreError> {
    let outcome: Option<String> = sqlx::query_scalar(
        "UPDATE attempts SET call_sid = COALESCE(call_sid, ?)
         WHERE campaign_id = ? AND row_id = ? AND number = ? RETURNING outcome",
    )
    .bind(call_sid)
    .bind(campaign)
    .bind(token.row_id)
    .bind(token.number)
    .fetch_optional(&mut **tx)
    .await?;
    if outcome.as_deref() == Some("not_created") {
        tracing::warn!(
            attempt = %token,
            %call_sid,
            "a status callback shows a call for an attempt judged never created: the row may have been dialed twice (raise retry.call_log_grace)"
        );
    }
    let found = Found {
        campaign,
        row_id: token.row_id,
        attempt: token.number,
        call_sid,
        conference_sid: None,
        how: "a status callback named the attempt in doubt",
        at_ms,
    };
    found.mark(tx).await?;
    Ok(())
}
