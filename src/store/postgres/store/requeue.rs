//! Failed rows put back to pending, with each requeue kept in the row's history, in one
//! statement fenced on `state = 'failed'`: a row another host is dialing, or one in doubt,
//! is never touched, and a row put back is claimed by any host's run like any due row.

use super::PgStore;
use crate::domain::RowState;
use crate::store::{RequeueSelection, Requeued, RequeuedRow, StoreError};

impl PgStore {
    pub async fn requeue_failed(
        &self,
        selection: &RequeueSelection,
    ) -> Result<Requeued, StoreError> {
        let now = self.now_ms();
        let lines = selection.stored_lines();
        let mut tx = self.pool.begin().await?;
        // Attempt numbers go on (a callback names its attempt); the budget restarts here.
        let rows: Vec<RequeuedRow> = sqlx::query_as(
            "WITH put AS (
                 UPDATE rows SET state = 'pending', failures = 0, attempts_before_requeue = attempts,
                        next_attempt_at = $1, updated_at = $1
                 WHERE campaign_id = $2 AND state = 'failed'
                   AND ($3::bigint IS NULL OR last_code = $3)
                   AND ($4::bigint[] IS NULL OR line = ANY($4))
                 RETURNING id, line, attempts, last_code, last_message
             ), logged AS (
                 INSERT INTO requeues (campaign_id, row_id, requeued_at, attempts, was_code, was_message)
                 SELECT $2, id, $1, attempts, last_code, last_message FROM put
             )
             SELECT line, attempts, last_code, last_message FROM put",
        )
        .bind(now)
        .bind(self.campaign)
        .bind(selection.stored_code())
        .bind(&lines)
        .fetch_all(&mut *tx)
        .await?;
        let states: Vec<(i64, RowState)> = match &lines {
            None => Vec::new(),
            Some(lines) => {
                sqlx::query_as(
                    "SELECT line, state FROM rows WHERE campaign_id = $1 AND line = ANY($2)",
                )
                .bind(self.campaign)
                .bind(lines)
                .fetch_all(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        Ok(Requeued::new(rows, selection, states))
    }
}
