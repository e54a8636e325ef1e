//! Reading outcomes back: the calls still to ask Twilio about, the rows a run waits for, the
//! counts the report shows, and a call's event history.

use super::PgStore;
use crate::domain::{CallSid, CallStatus};
use crate::store::{AwaitingCall, CallEvent, CallOutcomes, StoreError};
use sqlx::Row;

impl PgStore {
    /// Created calls without a final status, created at or before `created_before` (unix ms),
    /// oldest first, after the (created_at, row_id) position `after`.
    pub async fn awaiting_outcome(
        &self,
        created_before: i64,
        after: (i64, i64),
        limit: i64,
    ) -> Result<Vec<AwaitingCall>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, call_sid, created_at FROM rows
             WHERE campaign_id = $1 AND state = 'created' AND NOT outcome_final AND created_at <= $2
             AND (created_at, id) > ($3, $4)
             ORDER BY created_at, id LIMIT $5",
        )
        .bind(self.campaign)
        .bind(created_before)
        .bind(after.0)
        .bind(after.1)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// When the next pending row that is not waiting for a redial falls due: a run waits for
    /// retries, while recycled rows are left to the run that finds them due.
    pub async fn next_retry_at(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM rows
             WHERE campaign_id = $1 AND state = 'pending' AND NOT outcome_final",
        )
        .bind(self.campaign)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn call_outcomes(&self) -> Result<CallOutcomes, StoreError> {
        let mut outcomes = CallOutcomes::default();
        // SUM of a bigint is a numeric in PostgreSQL: cast back, as the column is.
        let rows = sqlx::query(
            "SELECT call_status, COUNT(*) AS n,
                    COUNT(*) FILTER (WHERE answered_by = 'human') AS human,
                    COUNT(*) FILTER (WHERE answered_by LIKE 'machine%') AS machine,
                    SUM(duration_secs)::bigint AS talk
             FROM attempts
             WHERE campaign_id = $1 AND call_status IN ('completed', 'busy', 'no-answer', 'failed', 'canceled')
             GROUP BY call_status",
        )
        .bind(self.campaign)
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            let n = row.try_get::<i64, _>("n")? as u64;
            match row.try_get("call_status")? {
                CallStatus::Completed => {
                    outcomes.completed = n;
                    let talk = row.try_get::<Option<i64>, _>("talk")?.unwrap_or(0) as u64;
                    outcomes.talk_secs_total = talk;
                    outcomes.talk_secs_average = (n > 0).then(|| talk as f64 / n as f64);
                }
                CallStatus::Busy => outcomes.busy = n,
                CallStatus::NoAnswer => outcomes.no_answer = n,
                CallStatus::Failed => outcomes.failed = n,
                _ => outcomes.canceled = n,
            }
            outcomes.answered_by_human += row.try_get::<i64, _>("human")? as u64;
            outcomes.answered_by_machine += row.try_get::<i64, _>("machine")? as u64;
        }
        outcomes.awaiting = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM rows WHERE campaign_id = $1 AND state = 'created' AND NOT outcome_final",
        )
        .bind(self.campaign)
        .fetch_one(&self.pool)
        .await? as u64;
        Ok(outcomes)
    }

    /// Every event kept for a call, in the order received.
    pub async fn call_events(&self, call_sid: &CallSid) -> Result<Vec<CallEvent>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT source, sequence_number, call_status FROM call_events
             WHERE campaign_id = $1 AND call_sid = $2 ORDER BY id",
        )
        .bind(self.campaign)
        .bind(call_sid)
        .fetch_all(&self.pool)
        .await?)
    }
}
