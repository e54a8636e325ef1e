//! The leases on rows being dialed: the heartbeat that keeps this process's alive, the count
//! of rows other holders are dialing, and the sweep that takes over a silent holder's rows.
//!
//! A lease is set and compared on the database's clock (`unix_ms()`), never a host's: hosts
//! whose clocks disagree still agree on whose lease has run out.
//!
//! dialing (holder, lease) --heartbeat, lease alive--> dialing (lease renewed)
//!                         --lease ran out, and a request's timeout--> unknown (reconciled)

use super::{PgStore, millis};
use crate::store::StoreError;
use std::time::Duration;

impl PgStore {
    /// Rows whose holder went silent: its lease ran out longer ago than a request can last,
    /// so a request it sent can no longer be in flight (a host paused mid-request included).
    /// Their request may have reached Twilio: they are reconciled, never simply re-dialed. A
    /// row whose lease is alive is never touched.
    pub async fn mark_orphans_unknown(&self, request_timeout: Duration) -> Result<u64, StoreError> {
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
        .bind(self.now_ms())
        .bind(self.campaign)
        .bind(millis(request_timeout))
        .fetch_one(&self.pool)
        .await?;
        Ok(taken_over as u64)
    }

    /// Rows being dialed by other holders whose lease has not run out: a live host's, or a
    /// dead one's until its lease ends. A row whose lease ran out is no longer being dialed
    /// by anyone (it waits for the sweep), so a run waiting for this count to fall does not
    /// wait for it forever.
    pub async fn dialing_elsewhere(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM rows WHERE campaign_id = $1 AND state = 'dialing'
             AND holder IS DISTINCT FROM $2 AND lease_expires_at > unix_ms()",
        )
        .bind(self.campaign)
        .bind(&self.holder)
        .fetch_one(&self.pool)
        .await?;
        Ok(n as u64)
    }

    /// The heartbeat: extends this holder's live leases. An expired lease is never revived:
    /// another host may be taking the row over, and the fence on `record` tells which won.
    pub async fn extend_leases(&self) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE rows SET lease_expires_at = unix_ms() + $1
             WHERE campaign_id = $2 AND holder = $3 AND state = 'dialing' AND lease_expires_at > unix_ms()",
        )
        .bind(self.lease_ms())
        .bind(self.campaign)
        .bind(&self.holder)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}
