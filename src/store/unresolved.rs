//! Rows in doubt: an attempt whose outcome is unknown (a timeout, a dropped connection, a 5xx,
//! a kill mid-request) is reconciled against Twilio before anyone is dialed again. When hosts
//! share a campaign (PostgreSQL), each row is checked by one host at a time, and settled once,
//! by whoever settles it first (every change is fenced on the row still being in doubt on the
//! same attempt). Written once for both backends; only the pick of due rows differs.
//!
//! unknown --a callback names the attempt, or found at Twilio--> created
//!         --not at Twilio, and still not after the grace----------> pending (may be dialed again)
//!         --Twilio unreachable, or not at Twilio yet---------------> unknown (checked again later)

use super::dialect::{Tx, on_backend, on_tx};
use super::{AttemptOutcome, Store, StoreError, Unresolved};
use crate::domain::{AttemptToken, CallSid, ConferenceSid};

/// How long a row handed out for a check (PostgreSQL) is hidden from other hosts: longer than a
/// check takes (one or two requests to Twilio), and short enough that a host that died
/// mid-check delays the row by no more than that. A check that ends settles or postpones it.
const CHECK_HOLD_MS: i64 = 30_000;

impl Store {
    /// Rows in doubt whose check is due. On PostgreSQL the statement that picks them (skipping
    /// rows another host is picking now) puts them off by `CHECK_HOLD_MS`, so each goes to one
    /// host. SQLite has one host (the caller holds the campaign's lock): a plain read.
    pub async fn due_unresolved(&self, limit: i64) -> Result<Vec<Unresolved>, StoreError> {
        let now = self.now_ms();
        Ok(match self {
            Self::Sqlite(db) => {
                sqlx::query_as(
                    "SELECT r.id, r.to_endpoint, r.label, r.params, r.attempts, r.failures,
                            a.started_at, a.finished_at, a.call_sid, a.message
                     FROM rows r JOIN attempts a ON a.row_id = r.id AND a.number = r.attempts
                     WHERE r.campaign_id = $1 AND r.state = 'unknown' AND r.next_attempt_at <= $2
                     ORDER BY r.next_attempt_at, r.id LIMIT $3",
                )
                .bind(db.campaign)
                .bind(now)
                .bind(limit)
                .fetch_all(&db.pool)
                .await?
            }
            Self::Postgres(db) => {
                sqlx::query_as(
                    "WITH due AS (
                         SELECT id, next_attempt_at FROM rows
                         WHERE campaign_id = $1 AND state = 'unknown' AND next_attempt_at <= $2
                         ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED
                     ), held AS (
                         UPDATE rows SET next_attempt_at = $2 + $4 FROM due WHERE rows.id = due.id
                         RETURNING rows.id, rows.to_endpoint, rows.label, rows.params, rows.attempts,
                                   rows.failures, due.next_attempt_at AS due_at
                     )
                     SELECT held.id, held.to_endpoint, held.label, held.params, held.attempts,
                            held.failures, a.started_at, a.finished_at, a.call_sid, a.message
                     FROM held JOIN attempts a ON a.row_id = held.id AND a.number = held.attempts
                     ORDER BY held.due_at, held.id",
                )
                .bind(db.campaign)
                .bind(now)
                .bind(limit)
                .bind(CHECK_HOLD_MS)
                .fetch_all(&db.pool)
                .await?
            }
        })
    }

    /// Twilio has the call: the row is created, by the attempt in doubt.
    pub async fn resolve_found(
        &self,
        row: &Unresolved,
        call_sid: &CallSid,
        conference_sid: Option<&ConferenceSid>,
    ) -> Result<(), StoreError> {
        let found = Found {
            row_id: row.row_id,
            attempt: row.attempt,
            call_sid,
            conference_sid,
            how: "found at Twilio after an unknown outcome",
            at_ms: self.now_ms(),
        };
        on_backend!(self, db => {
            let mut tx = db.pool.begin().await?;
            found.mark(Tx::from(&mut tx), db.campaign).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Twilio has no such call: the attempt never took effect, the row may be dialed again at
    /// `at`, unless `given_up` says why it is not (then it is failed, with that reason).
    pub async fn resolve_not_created(
        &self,
        row: &Unresolved,
        at: i64,
        given_up: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = self.now_ms();
        on_backend!(self, db => {
            let mut tx = db.pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE rows SET state = CASE WHEN $1 IS NULL THEN 'pending' ELSE 'failed' END,
                 last_message = COALESCE($1, last_message), failures = failures + 1,
                 next_attempt_at = $2, updated_at = $3
                 WHERE campaign_id = $4 AND id = $5 AND state = 'unknown' AND attempts = $6",
            )
            .bind(given_up)
            .bind(at)
            .bind(now)
            .bind(db.campaign)
            .bind(row.row_id)
            .bind(row.attempt)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 1 {
                sqlx::query(
                    "UPDATE attempts SET outcome = 'not_created' WHERE row_id = $1 AND number = $2",
                )
                .bind(row.row_id)
                .bind(row.attempt)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Twilio could not be asked: check again at `at` (or in the next run).
    pub async fn postpone_unresolved(
        &self,
        row: &Unresolved,
        at: i64,
        why: &str,
    ) -> Result<(), StoreError> {
        let now = self.now_ms();
        on_backend!(self, db => {
            sqlx::query(
                "UPDATE rows SET next_attempt_at = $1, last_message = $2, updated_at = $3
                 WHERE campaign_id = $4 AND id = $5 AND state = 'unknown' AND attempts = $6",
            )
            .bind(at)
            .bind(why)
            .bind(now)
            .bind(db.campaign)
            .bind(row.row_id)
            .bind(row.attempt)
            .execute(&db.pool)
            .await?;
            Ok(())
        })
    }
}

/// Proof that an attempt in doubt created its call.
struct Found<'a> {
    row_id: i64,
    attempt: i64,
    call_sid: &'a CallSid,
    conference_sid: Option<&'a ConferenceSid>,
    /// What proved it, for the row's last message.
    how: &'static str,
    /// When it was proved, on the store's clock.
    at_ms: i64,
}

impl Found<'_> {
    /// Marks the attempt found and its row (of `campaign`) created; fenced on the row still
    /// being in doubt on that attempt (0 rows changed = someone else settled it first).
    async fn mark(&self, tx: Tx<'_, '_>, campaign: i64) -> Result<(), StoreError> {
        on_tx!(tx, tx => {
            let changed = sqlx::query(
                "UPDATE rows SET state = 'created', call_sid = $1, conference_sid = COALESCE($2, conference_sid),
                 last_message = $3, created_at = $4, updated_at = $4,
                 call_status = NULL, answered_by = NULL, duration_secs = NULL, outcome_at = NULL, outcome_final = false
                 WHERE campaign_id = $5 AND id = $6 AND state = 'unknown' AND attempts = $7",
            )
            .bind(self.call_sid)
            .bind(self.conference_sid)
            .bind(self.how)
            .bind(self.at_ms)
            .bind(campaign)
            .bind(self.row_id)
            .bind(self.attempt)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if changed == 1 {
                sqlx::query(
                    "UPDATE attempts SET outcome = 'found', call_sid = $1, finished_at = COALESCE(finished_at, $2)
                     WHERE row_id = $3 AND number = $4",
                )
                .bind(self.call_sid)
                .bind(self.at_ms)
                .bind(self.row_id)
                .bind(self.attempt)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        })
    }
}

/// A signed status callback named `token`'s attempt and its call: the attempt has that call,
/// and a row in doubt on that attempt is created at once (the create's answer was lost, the
/// call was not).
pub(super) async fn name_attempt_call(
    mut tx: Tx<'_, '_>,
    campaign: i64,
    token: AttemptToken,
    call_sid: &CallSid,
    at_ms: i64,
) -> Result<(), StoreError> {
    let outcome: Option<AttemptOutcome> = on_tx!(&mut tx, tx => sqlx::query_scalar(
        "UPDATE attempts SET call_sid = COALESCE(call_sid, $1)
         WHERE campaign_id = $2 AND row_id = $3 AND number = $4 RETURNING outcome",
    )
    .bind(call_sid)
    .bind(campaign)
    .bind(token.row_id)
    .bind(token.number)
    .fetch_optional(&mut ***tx)
    .await?);
    if outcome == Some(AttemptOutcome::NotCreated) {
        tracing::warn!(
            attempt = %token,
            %call_sid,
            "a status callback shows a call for an attempt judged never created: the row may have been dialed twice (raise retry.call_log_grace)"
        );
    }
    let found = Found {
        row_id: token.row_id,
        attempt: token.number,
        call_sid,
        conference_sid: None,
        how: "a status callback named the attempt in doubt",
        at_ms,
    };
    found.mark(tx, campaign).await
}
