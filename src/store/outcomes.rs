//! Call outcomes: every status event kept as received, the newest applied to the call's attempt
//! and row, and a busy or unanswered row put back to pending in the same transaction, so an
//! outcome is never recorded without its redial decision (or the other way round). Written
//! once for both backends.
//!
//! created --final status, recycled--> pending (next_attempt_at = outcome_at + delay)
//!
//! A recycled row keeps its last call's outcome (`outcome_final`) while it waits; a new call
//! clears it when created.

use super::dialect::{Tx, on_backend, on_tx};
use super::unresolved::name_attempt_call;
use super::{AttemptParty, CallObservation, Recorded, Redial, Store, StoreError};
use crate::domain::CallStatus;

impl Store {
    /// Who the attempt `number` of row `row_id` of this campaign called, if it made one.
    pub async fn attempt_party(
        &self,
        row_id: i64,
        number: i64,
    ) -> Result<Option<AttemptParty>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_as(
            "SELECT r.to_endpoint, r.params FROM attempts a JOIN rows r ON r.id = a.row_id
             WHERE a.campaign_id = $1 AND a.row_id = $2 AND a.number = $3",
        )
        .bind(db.campaign)
        .bind(row_id)
        .bind(number)
        .fetch_optional(&db.pool)
        .await?))
    }

    /// Keeps a call's observation (once), applies it if it is news, and recycles the row when
    /// the call ended with a status the campaign calls again (`redial`).
    pub async fn record_call_event(
        &self,
        seen: &CallObservation,
        redial: Option<Redial>,
    ) -> Result<Recorded, StoreError> {
        let mut recorded = self.record_call_events(&[(seen, redial)]).await?;
        Ok(recorded.remove(0))
    }

    /// Records each observation as `record_call_event` does, all in one transaction: what one
    /// poll found of many calls costs one commit, not one per call.
    pub async fn record_call_events(
        &self,
        events: &[(&CallObservation, Option<Redial>)],
    ) -> Result<Vec<Recorded>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now_ms();
        on_backend!(self, db => {
            let mut tx = db.pool.begin().await?;
            let mut recorded = Vec::with_capacity(events.len());
            for (seen, redial) in events {
                recorded.push(record_event(Tx::from(&mut tx), db.campaign, seen, *redial, now).await?);
            }
            tx.commit().await?;
            Ok(recorded)
        })
    }
}

/// One observation of a call of `campaign`, recorded inside `tx` at `now` (unix ms).
async fn record_event(
    tx: Tx<'_, '_>,
    campaign: i64,
    seen: &CallObservation,
    redial: Option<Redial>,
    now: i64,
) -> Result<Recorded, StoreError> {
    on_tx!(tx, tx => {
        let inserted = sqlx::query(
            "INSERT INTO call_events (campaign_id, call_sid, source, sequence_number, call_status,
             answered_by, duration_secs, params, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT DO NOTHING",
        )
        .bind(campaign)
        .bind(&seen.call_sid)
        .bind(seen.source)
        .bind(seen.sequence_number)
        .bind(seen.status)
        .bind(&seen.answered_by)
        .bind(seen.duration_secs)
        .bind(&seen.params)
        .bind(now)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(Recorded::Duplicate);
        }
        if let Some(token) = seen.attempt {
            name_attempt_call(Tx::from(&mut *tx), campaign, token, &seen.call_sid, now).await?;
        }
        // The call's attempt, its status, and whether a newer event of this source came first.
        let attempt: Option<(i64, Option<CallStatus>, bool)> = sqlx::query_as(
            "SELECT a.row_id, a.call_status, EXISTS (SELECT 1 FROM call_events e
                 WHERE e.campaign_id = $1 AND e.call_sid = $2 AND e.source = $3 AND e.sequence_number > $4)
             FROM attempts a WHERE a.campaign_id = $1 AND a.call_sid = $2",
        )
        .bind(campaign)
        .bind(&seen.call_sid)
        .bind(seen.source)
        .bind(seen.sequence_number)
        .fetch_optional(&mut **tx)
        .await?;
        let Some((row_id, current, newer_seen)) = attempt else {
            return Ok(Recorded::UnknownCall);
        };
        if !seen.is_news(current, newer_seen) {
            return Ok(Recorded::Superseded);
        }
        sqlx::query(
            "UPDATE attempts SET call_status = $1, answered_by = COALESCE($2, answered_by),
             duration_secs = COALESCE($3, duration_secs) WHERE campaign_id = $4 AND call_sid = $5",
        )
        .bind(seen.status)
        .bind(&seen.answered_by)
        .bind(seen.duration_secs)
        .bind(campaign)
        .bind(&seen.call_sid)
        .execute(&mut **tx)
        .await?;
        let is_final = seen.status.is_final();
        // Fenced on the call: a recycled row dialed again has moved on to another call. The
        // attempts counted are those since the row was last requeued (its fresh budget).
        let attempts: Option<i64> = sqlx::query_scalar(
            "UPDATE rows SET call_status = $1, answered_by = COALESCE($2, answered_by),
             duration_secs = COALESCE($3, duration_secs), outcome_final = $4,
             outcome_at = CASE WHEN $4 THEN $5 END, updated_at = $5
             WHERE id = $6 AND call_sid = $7 AND state = 'created' AND NOT outcome_final
             RETURNING attempts - attempts_before_requeue",
        )
        .bind(seen.status)
        .bind(&seen.answered_by)
        .bind(seen.duration_secs)
        .bind(is_final)
        .bind(now)
        .bind(row_id)
        .bind(&seen.call_sid)
        .fetch_optional(&mut **tx)
        .await?;
        let redial_at = redial.and_then(|r| r.at(now, is_final, attempts?));
        if let Some(at) = redial_at {
            sqlx::query(
                "UPDATE rows SET state = 'pending', next_attempt_at = $1, call_sid = NULL,
                 last_message = $2, updated_at = $3 WHERE id = $4",
            )
            .bind(at)
            .bind(format!("recycled after the call ended {}", seen.status))
            .bind(now)
            .bind(row_id)
            .execute(&mut **tx)
            .await?;
        }
        Ok(Recorded::Applied {
            row_final: is_final && attempts.is_some(),
            redial_at,
        })
    })
}
