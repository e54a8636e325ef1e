//! Failed rows put back to pending, with each requeue kept in the row's history, in one
//! transaction fenced on `state = 'failed'`: a row another host is dialing, or one in doubt,
//! is never touched, and a row put back is claimed by any run like any due row. The dialects
//! truly differ here, so the two texts stand side by side: the lines travel as a JSON array on
//! SQLite (read by `json_each`) and as an array on PostgreSQL, whose one statement also writes
//! the history (SQLite has no writes inside `WITH`: it writes the history of those rows first).

use super::{RequeueSelection, Requeued, RequeuedRow, Store, StoreError};
use crate::domain::RowState;

impl Store {
    /// Puts the selected `failed` rows back to pending, due now, with a fresh attempt budget
    /// (attempt numbers go on: a callback names its attempt), and records the requeue in each
    /// row's history; no row in any other state is touched. Says which rows moved, and the
    /// named lines that did not.
    pub async fn requeue_failed(
        &self,
        selection: &RequeueSelection,
    ) -> Result<Requeued, StoreError> {
        let now = self.now_ms();
        let (rows, states): (Vec<RequeuedRow>, Vec<(i64, RowState)>) = match self {
            Self::Sqlite(db) => {
                // One parameter however many lines.
                let lines = selection
                    .stored_lines()
                    .map(|lines| serde_json::Value::from(lines).to_string());
                let mut tx = db.pool.begin().await?;
                // From this first write the transaction holds SQLite's one write lock, so the
                // update below moves the very rows whose history this keeps.
                sqlx::query(
                    "INSERT INTO requeues (campaign_id, row_id, requeued_at, attempts, was_code, was_message)
                     SELECT campaign_id, id, $1, attempts, last_code, last_message FROM rows
                     WHERE campaign_id = $2 AND state = 'failed'
                       AND ($3 IS NULL OR last_code = $3)
                       AND ($4 IS NULL OR line IN (SELECT value FROM json_each($4)))",
                )
                .bind(now)
                .bind(db.campaign)
                .bind(selection.stored_code())
                .bind(&lines)
                .execute(&mut *tx)
                .await?;
                let rows = sqlx::query_as(
                    "UPDATE rows SET state = 'pending', failures = 0, attempts_before_requeue = attempts,
                            next_attempt_at = $1, updated_at = $1
                     WHERE campaign_id = $2 AND state = 'failed'
                       AND ($3 IS NULL OR last_code = $3)
                       AND ($4 IS NULL OR line IN (SELECT value FROM json_each($4)))
                     RETURNING line, attempts, last_code, last_message",
                )
                .bind(now)
                .bind(db.campaign)
                .bind(selection.stored_code())
                .bind(&lines)
                .fetch_all(&mut *tx)
                .await?;
                let states = match &lines {
                    None => Vec::new(),
                    Some(lines) => {
                        sqlx::query_as(
                            "SELECT line, state FROM rows
                             WHERE campaign_id = $1 AND line IN (SELECT value FROM json_each($2))",
                        )
                        .bind(db.campaign)
                        .bind(lines)
                        .fetch_all(&mut *tx)
                        .await?
                    }
                };
                tx.commit().await?;
                (rows, states)
            }
            Self::Postgres(db) => {
                let lines = selection.stored_lines();
                let mut tx = db.pool.begin().await?;
                let rows = sqlx::query_as(
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
                .bind(db.campaign)
                .bind(selection.stored_code())
                .bind(&lines)
                .fetch_all(&mut *tx)
                .await?;
                let states = match &lines {
                    None => Vec::new(),
                    Some(lines) => sqlx::query_as(
                        "SELECT line, state FROM rows WHERE campaign_id = $1 AND line = ANY($2)",
                    )
                    .bind(db.campaign)
                    .bind(lines)
                    .fetch_all(&mut *tx)
                    .await?,
                };
                tx.commit().await?;
                (rows, states)
            }
        };
        Ok(Requeued::new(rows, selection, states))
    }
}
