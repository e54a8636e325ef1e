//! Failed rows put back to pending, and each requeue kept in the row's history, in one
//! transaction. The change itself is one statement fenced on `state = 'failed'`.

use super::SqliteStore;
use crate::domain::RowState;
use crate::store::{RequeueSelection, Requeued, RequeuedRow, StoreError};
use sqlx::{QueryBuilder, Sqlite};

/// Requeue events an insert writes at once: 6 values each, under SQLite's 32,766 parameters.
const BATCH: usize = 5_000;

/// A row put back, with the id its history names it by.
#[derive(sqlx::FromRow)]
struct PutBack {
    id: i64,
    #[sqlx(flatten)]
    row: RequeuedRow,
}

impl SqliteStore {
    pub async fn requeue_failed(
        &self,
        selection: &RequeueSelection,
    ) -> Result<Requeued, StoreError> {
        let now = self.now_ms();
        // The lines as a JSON array, read by `json_each`: one parameter however many.
        let lines = selection
            .stored_lines()
            .map(|lines| serde_json::Value::from(lines).to_string());
        let mut tx = self.pool.begin().await?;
        // Attempt numbers go on (a callback names its attempt); the budget restarts here.
        let put_back: Vec<PutBack> = sqlx::query_as(
            "UPDATE rows SET state = 'pending', failures = 0, attempts_before_requeue = attempts,
                    next_attempt_at = ?1, updated_at = ?1
             WHERE campaign_id = ?2 AND state = 'failed'
               AND (?3 IS NULL OR last_code = ?3)
               AND (?4 IS NULL OR line IN (SELECT value FROM json_each(?4)))
             RETURNING id, line, attempts, last_code, last_message",
        )
        .bind(now)
        .bind(self.campaign)
        .bind(selection.stored_code())
        .bind(&lines)
        .fetch_all(&mut *tx)
        .await?;
        for batch in put_back.chunks(BATCH) {
            let mut insert = QueryBuilder::<Sqlite>::new(
                "INSERT INTO requeues (campaign_id, row_id, requeued_at, attempts, was_code, was_message) ",
            );
            insert.push_values(batch, |mut values, PutBack { id, row }| {
                values
                    .push_bind(self.campaign)
                    .push_bind(*id)
                    .push_bind(now)
                    .push_bind(row.attempts)
                    .push_bind(row.was_code)
                    .push_bind(row.was_message.clone());
            });
            insert.build().execute(&mut *tx).await?;
        }
        let states: Vec<(i64, RowState)> = match &lines {
            None => Vec::new(),
            Some(lines) => {
                sqlx::query_as(
                    "SELECT line, state FROM rows
                     WHERE campaign_id = ? AND line IN (SELECT value FROM json_each(?))",
                )
                .bind(self.campaign)
                .bind(lines)
                .fetch_all(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        let rows = put_back.into_iter().map(|put| put.row).collect();
        Ok(Requeued::new(rows, selection, states))
    }
}
