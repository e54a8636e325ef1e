//! Rows and attempts: the claim, and every change of a claimed row, fenced on its holder (this
//! process). Written once for both backends; only the claim's pick of a row differs.
//!
//! pending --claim--> dialing --created--> created
//!                       |------retry----> pending (later)
//!                       |------failed---> failed
//!                       |------unknown--> unknown --reconcile--> created | pending | unknown
//!                       '--lease ran out, and a request's timeout--> unknown (taken over: `leases`)

use super::dialect::on_backend;
use super::model::rows::Written;
use super::{Claimed, Outcome, Store, StoreError};
use crate::domain::{Hold, RowState};
use std::time::Instant;

/// Changes this far "in the future" are read as a clock step back, not as clock jitter.
const CLOCK_STEP_MARGIN_MS: i64 = 5_000;

impl Store {
    /// Claims the next due pending row (see [`Store::claim_due`]).
    pub async fn claim_next(&self) -> Result<Option<Claimed>, StoreError> {
        Ok(self.claim_due(1).await?.pop())
    }

    /// Claims up to `limit` due pending rows, first due first, and records their attempts, in
    /// one transaction: each attempt is on disk before its request can leave. On PostgreSQL
    /// the rows are ones no other transaction is claiming (`SKIP LOCKED`: hosts never wait on
    /// each other's rows), leased on the database's clock, in one statement; on SQLite the run
    /// holds the campaign's lock, so the first due rows are the run's, with no lease.
    pub async fn claim_due(&self, limit: u32) -> Result<Vec<Claimed>, StoreError> {
        let now = self.now_ms();
        // Taken before the statement: the database set the leases' end later than this, so
        // the deadline errs on the safe side.
        let leased_at = Instant::now();
        let mut claimed: Vec<Claimed> = match self {
            Self::Sqlite(db) => {
                let mut tx = db.pool.begin().await?;
                let claimed: Vec<Claimed> = sqlx::query_as(
                    "UPDATE rows SET state = 'dialing', attempts = attempts + 1, holder = $3, updated_at = $1
                     WHERE id IN (SELECT id FROM rows WHERE campaign_id = $2 AND state = 'pending'
                                  AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $4)
                     RETURNING id, line, to_endpoint, label, params, attempts, failures, timezone,
                               NULLIF(jurisdictions, '') AS jurisdictions, person, $1 AS started_at,
                               (SELECT status FROM campaigns WHERE id = $2) AS campaign_status,
                               (SELECT o.source FROM opt_outs o
                                WHERE (o.expires_at IS NULL OR o.expires_at > $1)
                                  AND (o.number = rows.to_endpoint
                                       OR o.number IN (SELECT p.to_endpoint FROM rows p
                                                       WHERE p.person = rows.person))
                                LIMIT 1) AS opted_out",
                )
                .bind(now)
                .bind(db.campaign)
                .bind(&db.holder)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
                for row in &claimed {
                    sqlx::query(
                        "INSERT INTO attempts (campaign_id, row_id, number, holder, started_at)
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(db.campaign)
                    .bind(row.row_id)
                    .bind(row.attempt)
                    .bind(&db.holder)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                claimed
            }
            // One statement, so one round trip and one transaction for the whole batch.
            Self::Postgres(db) => sqlx::query_as(
                "WITH next AS (
                     SELECT id FROM rows WHERE campaign_id = $2 AND state = 'pending' AND next_attempt_at <= $1
                     ORDER BY next_attempt_at, id LIMIT $5 FOR UPDATE SKIP LOCKED
                 ), claimed AS (
                     UPDATE rows SET state = 'dialing', attempts = attempts + 1, holder = $3,
                            lease_expires_at = unix_ms() + $4, updated_at = $1
                     FROM next WHERE rows.id = next.id
                     RETURNING rows.id, line, to_endpoint, label, params, attempts, failures, timezone,
                               jurisdictions, person
                 ), attempt AS (
                     INSERT INTO attempts (campaign_id, row_id, number, holder, started_at)
                     SELECT $2, id, attempts, $3, $1 FROM claimed
                 )
                 SELECT id, line, to_endpoint, label, params, attempts, failures, timezone,
                        NULLIF(jurisdictions, '') AS jurisdictions, person, $1 AS started_at,
                        (SELECT status FROM campaigns WHERE id = $2) AS campaign_status,
                        (SELECT o.source FROM opt_outs o
                         WHERE (o.expires_at IS NULL OR o.expires_at > $1)
                           AND (o.number = claimed.to_endpoint
                                OR o.number IN (SELECT p.to_endpoint FROM rows p
                                                WHERE p.person = claimed.person))
                         LIMIT 1) AS opted_out
                 FROM claimed",
            )
            .bind(now)
            .bind(db.campaign)
            .bind(&db.holder)
            .bind(db.lease_ms())
            .bind(i64::from(limit))
            .fetch_all(&db.pool)
            .await?,
        };
        // RETURNING gives no order; rows due at once go in the list's order.
        claimed.sort_by_key(|row| row.row_id);
        if let Self::Postgres(db) = self {
            for row in &mut claimed {
                row.lease_deadline = Some(leased_at + db.lease());
            }
        }
        Ok(claimed)
    }

    /// Undoes a claim whose request was never sent: the attempt is removed and the row is
    /// pending again from `at`.
    pub async fn release(&self, claimed: &Claimed, at: i64, why: &str) -> Result<(), StoreError> {
        self.unclaim(claimed, RowState::Pending, at, why, None)
            .await
    }

    /// Releases a row the gate holds back (`hold`) until `at`, as `release` does.
    pub async fn release_held(
        &self,
        claimed: &Claimed,
        at: i64,
        why: &str,
        hold: Option<Hold>,
    ) -> Result<(), StoreError> {
        self.unclaim(claimed, RowState::Pending, at, why, hold)
            .await
    }

    /// Undoes a claim for a number that must never be dialed.
    pub async fn suppress(&self, claimed: &Claimed, why: &str) -> Result<(), StoreError> {
        self.unclaim(claimed, RowState::Suppressed, 0, why, None)
            .await
    }

    /// Fenced on the row still being ours: a row taken over meanwhile is left to its new
    /// owner (no error, since no request left).
    async fn unclaim(
        &self,
        claimed: &Claimed,
        state: RowState,
        at: i64,
        why: &str,
        hold: Option<Hold>,
    ) -> Result<(), StoreError> {
        let now = self.now_ms();
        on_backend!(self, db => {
            let mut tx = db.pool.begin().await?;
            let ours = sqlx::query(
                "UPDATE rows SET state = $1, attempts = attempts - 1, next_attempt_at = $2, last_message = $3,
                 updated_at = $4, holder = NULL, lease_expires_at = NULL, held_by = $8
                 WHERE id = $5 AND state = 'dialing' AND attempts = $6 AND holder = $7",
            )
            .bind(state)
            .bind(at)
            .bind(why)
            .bind(now)
            .bind(claimed.row_id)
            .bind(claimed.attempt)
            .bind(&db.holder)
            .bind(hold)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if ours == 1 {
                sqlx::query(
                    "DELETE FROM attempts WHERE row_id = $1 AND number = $2 AND outcome = 'sending'",
                )
                .bind(claimed.row_id)
                .bind(claimed.attempt)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Records how an attempt ended, fenced on the row still being ours: `LeaseLost` when
    /// another host took it over (then nothing is written, and the row is reconciled).
    pub async fn record(&self, claimed: &Claimed, outcome: &Outcome) -> Result<(), StoreError> {
        let now = self.now_ms();
        let written = Written::of(outcome);
        on_backend!(self, db => {
            let mut tx = db.pool.begin().await?;
            // The row first, then its attempt: the order in which the orphan sweep locks them,
            // so that the two never wait on each other.
            let fenced = match outcome {
                Outcome::Created { call_sid, conference_sid, queue_time_ms, .. } => sqlx::query(
                    "UPDATE rows SET state = 'created', call_sid = $1, conference_sid = $2, queue_time_ms = $3,
                     last_status = $4, last_code = NULL, last_message = NULL, created_at = $5, updated_at = $5,
                     call_status = NULL, answered_by = NULL, duration_secs = NULL, outcome_at = NULL,
                     outcome_final = false, holder = NULL, lease_expires_at = NULL
                     WHERE id = $6 AND state = 'dialing' AND attempts = $7 AND holder = $8",
                )
                .bind(call_sid)
                .bind(conference_sid)
                .bind(queue_time_ms)
                .bind(written.http_status)
                .bind(now),
                Outcome::Retry { at, counts, .. } => sqlx::query(
                    "UPDATE rows SET state = 'pending', next_attempt_at = $1, failures = failures + $2,
                     last_status = $3, last_code = $4, last_message = $5, updated_at = $6,
                     holder = NULL, lease_expires_at = NULL
                     WHERE id = $7 AND state = 'dialing' AND attempts = $8 AND holder = $9",
                )
                .bind(at)
                .bind(i64::from(*counts))
                .bind(written.http_status)
                .bind(written.code)
                .bind(written.message)
                .bind(now),
                Outcome::Failed { .. } => sqlx::query(
                    "UPDATE rows SET state = 'failed', failures = failures + 1, last_status = $1, last_code = $2,
                     last_message = $3, updated_at = $4, holder = NULL, lease_expires_at = NULL
                     WHERE id = $5 AND state = 'dialing' AND attempts = $6 AND holder = $7",
                )
                .bind(written.http_status)
                .bind(written.code)
                .bind(written.message)
                .bind(now),
                Outcome::Unknown { check_at, .. } => sqlx::query(
                    "UPDATE rows SET state = 'unknown', next_attempt_at = $1, last_status = $2, last_code = $3,
                     last_message = $4, updated_at = $5, holder = NULL, lease_expires_at = NULL
                     WHERE id = $6 AND state = 'dialing' AND attempts = $7 AND holder = $8",
                )
                .bind(check_at)
                .bind(written.http_status)
                .bind(written.code)
                .bind(written.message)
                .bind(now),
            }
            .bind(claimed.row_id)
            .bind(claimed.attempt)
            .bind(&db.holder)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if fenced != 1 {
                // The attempt stays as the host that took the row over left it (in doubt).
                // Under SQLite's campaign lock no other process can have taken it.
                return Err(if self.is_shared() {
                    StoreError::LeaseLost { row_id: claimed.row_id, attempt: claimed.attempt }
                } else {
                    StoreError::Corrupt(format!(
                        "row {} was not in dialing state for attempt {}",
                        claimed.row_id, claimed.attempt
                    ))
                });
            }
            // A callback may have named this attempt's call while its request was in flight.
            // `started_at` becomes when the request left (`Claimed::started_at`): a row claimed
            // with others waited for its slot after the claim wrote the attempt.
            sqlx::query(
                "UPDATE attempts SET outcome = $1, finished_at = $2, http_status = $3, twilio_code = $4,
                 message = $5, call_sid = COALESCE($6, call_sid), queue_time_ms = $7, started_at = $10
                 WHERE row_id = $8 AND number = $9",
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
            .bind(claimed.started_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// When the next pending row falls due (unix ms), if any. It reads the pending rows'
    /// partial index, so this stays cheap on a million-row campaign.
    pub async fn next_pending_at(&self) -> Result<Option<i64>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM rows WHERE campaign_id = $1 AND state = 'pending'",
        )
        .bind(db.campaign)
        .fetch_one(&db.pool)
        .await?))
    }

    /// A row changed "in the future" was changed before the clock stepped back (an NTP step, a
    /// VM restored from a snapshot): its due time moves back by the same step, so the step
    /// delays nothing. Returns how many rows moved. Due times are on the store's clock, which on
    /// PostgreSQL is the database's, so hosts whose own clocks disagree do not read each
    /// other's changes as steps.
    pub async fn undo_clock_step(&self) -> Result<u64, StoreError> {
        let now = self.now_ms();
        on_backend!(self, db => Ok(sqlx::query(
            "UPDATE rows SET next_attempt_at = next_attempt_at - (updated_at - $1), updated_at = $1
             WHERE campaign_id = $3 AND updated_at > $1 + $2",
        )
        .bind(now)
        .bind(CLOCK_STEP_MARGIN_MS)
        .bind(db.campaign)
        .execute(&db.pool)
        .await?
        .rows_affected()))
    }
}
