//! What changes when several hosts share the database (PostgreSQL): a claimed row is leased on
//! the database's clock instead of the campaign being locked, a heartbeat keeps this process's
//! leases alive, a silent holder's rows are taken over, and the account's call schedule lives
//! in the database. On SQLite a run holds the campaign's lock for its whole length and the
//! account's CPS is shared through this machine's slot file, so none of this applies: each
//! method says what SQLite does instead.
//!
//! dialing (holder, lease) --heartbeat, lease alive--> dialing (lease renewed)
//!                         --lease ran out, and a request's timeout--> unknown (reconciled)

use super::account_schedule::AccountSchedule;
use super::backend::millis;
use super::{Store, StoreError};
use crate::domain::AccountSid;
use std::time::Duration;

impl Store {
    /// Whether other hosts may be dialing this campaign at the same time: rows are then
    /// leased, and one whose holder's lease ran out is taken over while a run goes on.
    pub fn is_shared(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// How long a claim holds its row on a shared database (the campaign's `database.lease`).
    pub fn with_lease(self, lease: Duration) -> Self {
        match self {
            Self::Sqlite(db) => Self::Sqlite(db.with_lease(lease)),
            Self::Postgres(db) => Self::Postgres(db.with_lease(lease)),
        }
    }

    /// The account's schedule kept in this database, when hosts share it; `None` on SQLite,
    /// whose runs share this machine's slot file instead.
    pub fn account_schedule(&self, account: &AccountSid) -> Option<AccountSchedule> {
        match self {
            Self::Sqlite(_) => None,
            Self::Postgres(db) => Some(AccountSchedule::new(db.pool.clone(), account.clone())),
        }
    }

    /// Rows left `dialing` by a run that is gone: their request may have reached Twilio, so
    /// they are reconciled, never simply re-dialed. On SQLite, every such row (the caller holds
    /// the campaign's lock, so no other run is dialing); on PostgreSQL, those whose holder's
    /// lease ran out longer ago than a request can last (`request_timeout`), so a request it
    /// sent can no longer be in flight (a host paused mid-request included). A row whose lease
    /// is alive is never touched.
    pub async fn mark_orphans_unknown(&self, request_timeout: Duration) -> Result<u64, StoreError> {
        let now = self.now_ms();
        match self {
            Self::Sqlite(db) => {
                let mut tx = db.pool.begin().await?;
                sqlx::query(
                    "UPDATE attempts SET outcome = 'unknown', message = 'the run stopped before the answer was recorded'
                     WHERE campaign_id = $1 AND outcome = 'sending'",
                )
                .bind(db.campaign)
                .execute(&mut *tx)
                .await?;
                let n = sqlx::query(
                    "UPDATE rows SET state = 'unknown', next_attempt_at = 0, holder = NULL, updated_at = $1
                     WHERE campaign_id = $2 AND state = 'dialing'",
                )
                .bind(now)
                .bind(db.campaign)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(n)
            }
            Self::Postgres(db) => {
                let taken_over: i64 = sqlx::query_scalar(
                    "WITH orphans AS (
                         UPDATE rows SET state = 'unknown', next_attempt_at = 0, holder = NULL,
                                lease_expires_at = NULL, updated_at = $1
                         WHERE campaign_id = $2 AND state = 'dialing' AND lease_expires_at < unix_ms() - $3
                         RETURNING id, attempts
                     ), in_doubt AS (
                         UPDATE attempts SET outcome = 'unknown',
                                message = 'the run stopped before the answer was recorded'
                         FROM orphans WHERE attempts.row_id = orphans.id
                         AND attempts.number = orphans.attempts AND attempts.outcome = 'sending'
                     )
                     SELECT COUNT(*) FROM orphans",
                )
                .bind(now)
                .bind(db.campaign)
                .bind(millis(request_timeout))
                .fetch_one(&db.pool)
                .await?;
                Ok(taken_over as u64)
            }
        }
    }

    /// The heartbeat: extends this holder's live leases; returns how many. An expired lease
    /// is never revived: another host may be taking the row over, and the fence on `record`
    /// tells which won. Nothing to do on SQLite, where no lease runs out.
    pub async fn extend_leases(&self) -> Result<u64, StoreError> {
        let Self::Postgres(db) = self else {
            return Ok(0);
        };
        Ok(sqlx::query(
            "UPDATE rows SET lease_expires_at = unix_ms() + $1
             WHERE campaign_id = $2 AND holder = $3 AND state = 'dialing' AND lease_expires_at > unix_ms()",
        )
        .bind(db.lease_ms())
        .bind(db.campaign)
        .bind(&db.holder)
        .execute(&db.pool)
        .await?
        .rows_affected())
    }
}
