//! What `dialer plan` reads: the pending rows a page at a time, with what the gate decides
//! on, and the calls placed to any number since an instant (what the caps count), in one
//! statement each. Written once for both backends.

use super::dialect::on_backend;
use super::{PendingRow, Store, StoreError};
use crate::domain::{Endpoint, PersonId};

impl Store {
    /// Pending rows after `after_id`, in id order, `limit` at most.
    pub async fn pending_rows_after(
        &self,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<PendingRow>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_as(
            "SELECT id, line, to_endpoint, label, timezone, NULLIF(jurisdictions, '') AS jurisdictions,
                    person, attempts, next_attempt_at
             FROM rows WHERE campaign_id = $1 AND state = 'pending' AND id > $2
             ORDER BY id LIMIT $3",
        )
        .bind(db.campaign)
        .bind(after_id)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?))
    }

    /// Every call that may have been placed since `since_ms` (unix ms), by every campaign of
    /// the database, as (number, its person, when), oldest first: what a cap on calls to one
    /// person counts (the attempts `Store::calls_placed_to` counts, for all numbers at once).
    pub async fn calls_placed_since(
        &self,
        since_ms: i64,
    ) -> Result<Vec<(Endpoint, Option<PersonId>, i64)>, StoreError> {
        on_backend!(self, db => Ok(sqlx::query_as(
            "SELECT r.to_endpoint, r.person, a.started_at FROM attempts a JOIN rows r ON r.id = a.row_id
             WHERE a.started_at >= $1 AND a.outcome IN ('sending', 'created', 'found', 'unknown')
             ORDER BY a.started_at",
        )
        .bind(since_ms)
        .fetch_all(&db.pool)
        .await?))
    }
}
