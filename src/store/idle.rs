//! What a worker with nothing to dial reads of a campaign between passes: one statement a
//! tick, written once for both backends, instead of a full pass (a dozen transactions); and
//! what a dialing run that found nothing to claim still waits for, in one statement too.

use super::dialect::on_backend;
use super::{Left, Lull, Store, StoreError};
use crate::domain::CampaignStatus;

/// The status, the earliest due time of pending rows, of rows in doubt, the earliest end of a
/// lease, and when the oldest call awaiting its outcome was created.
type Read = (
    CampaignStatus,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

impl Store {
    /// The campaign's status, when its next row falls due and since when a call awaits its
    /// outcome, in one statement. It
    /// sees what other processes change: a resume (the status), a requeue or another host's
    /// import (a pending row due now), a row in doubt's next check, a retry's due time, and a
    /// take-over (the end of another host's lease). Every part reads an index of `rows`.
    pub async fn lull(&self) -> Result<Lull, StoreError> {
        let (status, pending, unknown, leased, awaiting): Read = on_backend!(self, db => sqlx::query_as(
            "SELECT status,
                    (SELECT MIN(next_attempt_at) FROM rows WHERE campaign_id = $1 AND state = 'pending'),
                    (SELECT MIN(next_attempt_at) FROM rows WHERE campaign_id = $1 AND state = 'unknown'),
                    (SELECT MIN(COALESCE(lease_expires_at, 0)) FROM rows
                     WHERE campaign_id = $1 AND state = 'dialing'),
                    (SELECT MIN(created_at) FROM rows
                     WHERE campaign_id = $1 AND state = 'created' AND NOT outcome_final)
             FROM campaigns WHERE id = $1",
        )
        .bind(db.campaign)
        .fetch_one(&db.pool)
        .await?);
        Ok(Lull {
            status,
            next_due_at: [pending, unknown, leased].into_iter().flatten().min(),
            oldest_awaiting: awaiting,
        })
    }

    /// What a dialing run that found nothing to claim waits for, in one statement: the next
    /// pending row not waiting for a redial (a run waits for retries, while recycled rows are
    /// left to the run that finds them due), the rows in doubt, and (on PostgreSQL) the rows
    /// other holders are dialing whose lease has not run out (a live host's, or a dead one's
    /// until its lease ends: a row whose lease ran out waits for the take-over, so a run
    /// waiting for this count to fall does not wait forever; none on SQLite, where every
    /// `dialing` row is the run's under the campaign's lock).
    pub async fn left(&self) -> Result<Left, StoreError> {
        let (next_retry_at, unknown, elsewhere): (Option<i64>, i64, i64) = match self {
            Self::Sqlite(db) => {
                sqlx::query_as(
                    "SELECT (SELECT MIN(next_attempt_at) FROM rows
                         WHERE campaign_id = $1 AND state = 'pending' AND NOT outcome_final),
                        (SELECT COUNT(*) FROM rows WHERE campaign_id = $1 AND state = 'unknown'),
                        0",
                )
                .bind(db.campaign)
                .fetch_one(&db.pool)
                .await?
            }
            Self::Postgres(db) => {
                sqlx::query_as(
                    "SELECT (SELECT MIN(next_attempt_at) FROM rows
                         WHERE campaign_id = $1 AND state = 'pending' AND NOT outcome_final),
                        (SELECT COUNT(*) FROM rows WHERE campaign_id = $1 AND state = 'unknown'),
                        (SELECT COUNT(*) FROM rows WHERE campaign_id = $1 AND state = 'dialing'
                         AND holder IS DISTINCT FROM $2 AND lease_expires_at > unix_ms())",
                )
                .bind(db.campaign)
                .bind(&db.holder)
                .fetch_one(&db.pool)
                .await?
            }
        };
        Ok(Left {
            next_retry_at,
            unknown: unknown as u64,
            dialing_elsewhere: elsewhere as u64,
        })
    }
}
