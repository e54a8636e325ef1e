//! Reading outcomes back: the calls still to ask Twilio about, the rows a run waits for, the
//! counts the report shows, and a call's event history. Each written once for both backends
//! (`NOT outcome_final` reads SQLite's 0/1 as PostgreSQL's boolean), but for the calls a host
//! takes to poll, held from other hosts on PostgreSQL.

use super::dialect::on_backend;
use super::{AwaitingCall, CallEvent, CallOutcomes, Store, StoreError};
use crate::domain::{CallSid, CallStatus};

/// How long a call taken for a poll (PostgreSQL) is hidden from other hosts: longer than a
/// taken page waits for its read of the call log (a few seconds) and the read itself.
const POLL_HOLD_MS: i64 = 60_000;

/// Ended calls of one final status: how many, answered by a person, by a machine, and the
/// seconds talked.
type StatusCalls = (CallStatus, i64, i64, i64, Option<i64>);

impl Store {
    /// Created calls without a final status, created at or before `created_before` (unix ms),
    /// oldest first, after the (created_at, row_id) position `after`.
    pub async fn awaiting_outcome(
        &self,
        created_before: i64,
        after: (i64, i64),
        limit: i64,
    ) -> Result<Vec<AwaitingCall>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_as(
            "SELECT id, call_sid, created_at FROM rows
             WHERE campaign_id = $1 AND state = 'created' AND NOT outcome_final AND created_at <= $2
             AND (created_at, id) > ($3, $4)
             ORDER BY created_at, id LIMIT $5",
        )
        .bind(db.campaign)
        .bind(created_before)
        .bind(after.0)
        .bind(after.1)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?))
    }

    /// The calls to ask Twilio about next, as `awaiting_outcome` reads them, taken by this
    /// host: on PostgreSQL the statement that picks them (skipping rows another host is picking
    /// now, and calls another host holds) holds them for `POLL_HOLD_MS`, so each call is polled
    /// by one host and hosts do not record the same answers. SQLite has one host: a plain read.
    pub async fn take_awaiting_outcome(
        &self,
        created_before: i64,
        after: (i64, i64),
        limit: i64,
    ) -> Result<Vec<AwaitingCall>, StoreError> {
        let now = self.now_ms();
        match self {
            Self::Sqlite(_) => self.awaiting_outcome(created_before, after, limit).await,
            Self::Postgres(db) => Ok(sqlx::query_as(
                "WITH due AS (
                     SELECT id FROM rows
                     WHERE campaign_id = $1 AND state = 'created' AND NOT outcome_final AND created_at <= $2
                     AND (created_at, id) > ($3, $4) AND poll_held_until <= $6
                     ORDER BY created_at, id LIMIT $5 FOR UPDATE SKIP LOCKED
                 ), held AS (
                     UPDATE rows SET poll_held_until = $6 + $7 FROM due WHERE rows.id = due.id
                     RETURNING rows.id, rows.call_sid, rows.created_at
                 )
                 SELECT id, call_sid, created_at FROM held ORDER BY created_at, id",
            )
            .bind(db.campaign)
            .bind(created_before)
            .bind(after.0)
            .bind(after.1)
            .bind(limit)
            .bind(now)
            .bind(POLL_HOLD_MS)
            .fetch_all(&db.pool)
            .await?),
        }
    }

    /// Ended calls by final status, with who answered and how long they talked, and how many
    /// created calls still await theirs.
    pub async fn call_outcomes(&self) -> Result<CallOutcomes, StoreError> {
        let mut outcomes = CallOutcomes::default();
        // A SUM of a bigint is a numeric in PostgreSQL: cast back, as the column is.
        let (rows, awaiting): (Vec<StatusCalls>, i64) = on_backend!(self, db => (
            sqlx::query_as(
                "SELECT call_status, COUNT(*) AS n,
                        COUNT(*) FILTER (WHERE answered_by = 'human') AS human,
                        COUNT(*) FILTER (WHERE answered_by LIKE 'machine%') AS machine,
                        CAST(SUM(duration_secs) AS BIGINT) AS talk
                 FROM attempts
                 WHERE campaign_id = $1 AND call_status IN ('completed', 'busy', 'no-answer', 'failed', 'canceled')
                 GROUP BY call_status",
            )
            .bind(db.campaign)
            .fetch_all(&db.pool)
            .await?,
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM rows WHERE campaign_id = $1 AND state = 'created' AND NOT outcome_final",
            )
            .bind(db.campaign)
            .fetch_one(&db.pool)
            .await?,
        ));
        for (status, n, human, machine, talk) in rows {
            let n = n as u64;
            match status {
                CallStatus::Completed => {
                    outcomes.completed = n;
                    let talk = talk.unwrap_or(0) as u64;
                    outcomes.talk_secs_total = talk;
                    outcomes.talk_secs_average = (n > 0).then(|| talk as f64 / n as f64);
                }
                CallStatus::Busy => outcomes.busy = n,
                CallStatus::NoAnswer => outcomes.no_answer = n,
                CallStatus::Failed => outcomes.failed = n,
                _ => outcomes.canceled = n,
            }
            outcomes.answered_by_human += human as u64;
            outcomes.answered_by_machine += machine as u64;
        }
        outcomes.awaiting = awaiting as u64;
        Ok(outcomes)
    }

    /// Every event kept for a call, in the order received.
    pub async fn call_events(&self, call_sid: &CallSid) -> Result<Vec<CallEvent>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_as(
            "SELECT source, sequence_number, call_status FROM call_events
             WHERE campaign_id = $1 AND call_sid = $2 ORDER BY id",
        )
        .bind(db.campaign)
        .bind(call_sid)
        .fetch_all(&db.pool)
        .await?))
    }
}
