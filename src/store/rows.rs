//! Rows and attempts: import, the atomic claim, and every state change of a row.
//!
//! pending --claim--> dialing --created--> created
//!                       |------retry----> pending (later)
//!                       |------failed---> failed
//!                       '------unknown--> unknown --reconcile--> created | pending | unknown

use super::{Store, StoreError, now_ms};
use sqlx::Row;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowState {
    Pending,
    Dialing,
    Created,
    Failed,
    Unknown,
}

/// A valid list row on its way in.
#[derive(Debug, Clone)]
pub struct NewRow {
    pub line: u64,
    pub to: String,
    pub label: String,
    /// JSON object of this row's own parameter values.
    pub params: String,
}

/// What import did with a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    New,
    /// The same `to` was imported by an earlier run (from this line or, before the list
    /// changed, another: its row now gives this line).
    AlreadyImported,
    /// The same `to` is on an earlier line of this import: it is dialed once.
    DuplicateOf(u64),
    /// Another line already uses this label.
    LabelTaken(u64),
}

/// A row claimed for one create request; its attempt is already on disk.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub row_id: i64,
    pub line: u64,
    pub to: String,
    pub label: String,
    pub params: String,
    pub attempt: i64,
    pub failures: i64,
    pub started_at: i64,
}

/// How a create request ended, as the row records it.
#[derive(Debug, Clone)]
pub enum Outcome {
    Created {
        call_sid: String,
        conference_sid: Option<String>,
        queue_time_ms: Option<i64>,
        status: u16,
    },
    /// Not processed by Twilio: back to pending at `at`. `counts` says whether it counts
    /// towards max_attempts.
    Retry {
        at: i64,
        counts: bool,
        http_status: Option<u16>,
        code: Option<u32>,
        message: String,
    },
    Failed {
        http_status: Option<u16>,
        code: Option<u32>,
        message: String,
    },
    /// Maybe created: check with Twilio at `check_at` before any re-dial.
    Unknown {
        check_at: i64,
        http_status: Option<u16>,
        code: Option<u32>,
        message: String,
    },
}

/// The rows one import of the list has met so far, by id (a bit each): a `to` met again in
/// the same import is a duplicate; one met for the first time is already imported, wherever
/// it stands in the list now.
#[derive(Debug, Default)]
pub struct ImportPass {
    met: Vec<u64>,
}

impl ImportPass {
    /// Marks the row met; true the first time.
    fn meet(&mut self, id: i64) -> bool {
        let (word, bit) = (id as usize / 64, id as usize % 64);
        if word >= self.met.len() {
            self.met.resize(word + 1, 0);
        }
        let first = self.met[word] & (1 << bit) == 0;
        self.met[word] |= 1 << bit;
        first
    }
}

impl Store {
    /// Inserts a batch of rows in one transaction, with one statement for the whole batch
    /// (a statement per row made re-importing a million-row list take about a minute).
    pub async fn import_rows(
        &self,
        pass: &mut ImportPass,
        rows: &[NewRow],
    ) -> Result<Vec<Inserted>, StoreError> {
        let batch: Vec<_> = rows
            .iter()
            .map(|r| (r.line, &r.to, &r.label, &r.params))
            .collect();
        let batch = serde_json::to_string(&batch).expect("strings and integers serialize");
        let mut tx = self.pool.begin().await?;
        // In list order, so a number listed twice in one batch keeps its first line.
        let inserted: HashMap<i64, i64> = sqlx::query_as(
            "INSERT INTO rows (line, to_endpoint, label, params, updated_at)
             SELECT value ->> '$[0]', value ->> '$[1]', value ->> '$[2]', value ->> '$[3]', ?2
             FROM json_each(?1) WHERE true
             ON CONFLICT DO NOTHING
             RETURNING line, id",
        )
        .bind(&batch)
        .bind(now_ms())
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        for id in inserted.values() {
            pass.meet(*id);
        }
        let is_new = |row: &NewRow| inserted.contains_key(&(row.line as i64));
        let taken: Vec<&str> = rows
            .iter()
            .filter(|r| !is_new(r))
            .map(|r| r.to.as_str())
            .collect();
        // `to` → (row id, the line it stands on in this import, or stood on before).
        let mut known: HashMap<String, (i64, i64)> = HashMap::new();
        if !taken.is_empty() {
            let taken = serde_json::to_string(&taken).expect("strings serialize");
            let found: Vec<(String, i64, i64)> = sqlx::query_as(
                "SELECT to_endpoint, id, line FROM rows
                 WHERE to_endpoint IN (SELECT value FROM json_each(?))",
            )
            .bind(taken)
            .fetch_all(&mut *tx)
            .await?;
            known = found
                .into_iter()
                .map(|(to, id, line)| (to, (id, line)))
                .collect();
        }
        let mut moved = Vec::new();
        let mut results = Vec::with_capacity(rows.len());
        for row in rows {
            let line = row.line as i64;
            let result = match known.get_mut(&row.to) {
                _ if is_new(row) => Inserted::New,
                Some((id, known_line)) => {
                    if !pass.meet(*id) {
                        Inserted::DuplicateOf(*known_line as u64)
                    } else {
                        if *known_line != line {
                            moved.push((*id, line));
                            *known_line = line;
                        }
                        Inserted::AlreadyImported
                    }
                }
                None => {
                    let line: i64 = sqlx::query_scalar("SELECT line FROM rows WHERE label = ?")
                        .bind(&row.label)
                        .fetch_one(&mut *tx)
                        .await?;
                    Inserted::LabelTaken(line as u64)
                }
            };
            results.push(result);
        }
        if !moved.is_empty() {
            // The list changed (a line inserted above, a sort): each row gives its line now.
            sqlx::query(
                "UPDATE rows SET line = moved.value ->> '$[1]'
                 FROM json_each(?) AS moved WHERE rows.id = moved.value ->> '$[0]'",
            )
            .bind(serde_json::to_string(&moved).expect("integers serialize"))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(results)
    }

    /// After a crash, a `dialing` row's request may have reached Twilio: it must be
    /// reconciled, never simply re-dialed. Only called while holding the campaign lock.
    pub async fn mark_orphans_unknown(&self) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE attempts SET outcome = 'unknown', message = 'the run stopped before the answer was recorded' WHERE outcome = 'sending'")
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query("UPDATE rows SET state = 'unknown', next_attempt_at = 0, updated_at = ? WHERE state = 'dialing'")
            .bind(now_ms())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// Claims the next due pending row and records its attempt, durably, in one transaction.
    pub async fn claim_next(&self) -> Result<Option<Claimed>, StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "UPDATE rows SET state = 'dialing', attempts = attempts + 1, updated_at = ?1
             WHERE id = (SELECT id FROM rows WHERE state = 'pending' AND next_attempt_at <= ?1
                         ORDER BY next_attempt_at, id LIMIT 1)
             RETURNING id, line, to_endpoint, label, params, attempts, failures",
        )
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let claimed = Claimed {
            row_id: row.try_get("id")?,
            line: row.try_get::<i64, _>("line")? as u64,
            to: row.try_get("to_endpoint")?,
            label: row.try_get("label")?,
            params: row.try_get("params")?,
            attempt: row.try_get("attempts")?,
            failures: row.try_get("failures")?,
            started_at: now,
        };
        sqlx::query("INSERT INTO attempts (row_id, number, started_at) VALUES (?, ?, ?)")
            .bind(claimed.row_id)
            .bind(claimed.attempt)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(claimed))
    }

    /// Undoes a claim whose request was never sent: the attempt is removed and the row is
    /// pending again from `at`.
    pub async fn release(&self, claimed: &Claimed, at: i64, why: &str) -> Result<(), StoreError> {
        self.unclaim(claimed, "pending", at, why).await
    }

    /// Undoes a claim for a number that must never be dialed.
    pub async fn suppress(&self, claimed: &Claimed, why: &str) -> Result<(), StoreError> {
        self.unclaim(claimed, "suppressed", 0, why).await
    }

    async fn unclaim(
        &self,
        claimed: &Claimed,
        state: &str,
        at: i64,
        why: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM attempts WHERE row_id = ? AND number = ? AND outcome = 'sending'")
            .bind(claimed.row_id)
            .bind(claimed.attempt)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE rows SET state = ?, attempts = attempts - 1, next_attempt_at = ?, last_message = ?, updated_at = ?
             WHERE id = ? AND state = 'dialing' AND attempts = ?",
        )
        .bind(state)
        .bind(at)
        .bind(why)
        .bind(now_ms())
        .bind(claimed.row_id)
        .bind(claimed.attempt)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records how an attempt ended, fenced on the row still being ours.
    pub async fn record(&self, claimed: &Claimed, outcome: &Outcome) -> Result<(), StoreError> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let (attempt_outcome, status, code, message, call_sid, queue_time) = match outcome {
            Outcome::Created {
                call_sid,
                queue_time_ms,
                status,
                ..
            } => (
                "created",
                Some(*status),
                None,
                None,
                Some(call_sid.as_str()),
                *queue_time_ms,
            ),
            Outcome::Retry {
                http_status,
                code,
                message,
                ..
            } => (
                "retry",
                *http_status,
                *code,
                Some(message.as_str()),
                None,
                None,
            ),
            Outcome::Failed {
                http_status,
                code,
                message,
            } => (
                "failed",
                *http_status,
                *code,
                Some(message.as_str()),
                None,
                None,
            ),
            Outcome::Unknown {
                http_status,
                code,
                message,
                ..
            } => (
                "unknown",
                *http_status,
                *code,
                Some(message.as_str()),
                None,
                None,
            ),
        };
        sqlx::query(
            "UPDATE attempts SET outcome = ?, finished_at = ?, http_status = ?, twilio_code = ?, message = ?,
             call_sid = ?, queue_time_ms = ? WHERE row_id = ? AND number = ?",
        )
        .bind(attempt_outcome)
        .bind(now)
        .bind(status)
        .bind(code)
        .bind(message)
        .bind(call_sid)
        .bind(queue_time)
        .bind(claimed.row_id)
        .bind(claimed.attempt)
        .execute(&mut *tx)
        .await?;
        let fenced = match outcome {
            Outcome::Created { call_sid, conference_sid, queue_time_ms, status } => sqlx::query(
                "UPDATE rows SET state = 'created', call_sid = ?, conference_sid = ?, queue_time_ms = ?,
                 last_status = ?, last_code = NULL, last_message = NULL, created_at = ?, updated_at = ?,
                 call_status = NULL, answered_by = NULL, duration_secs = NULL, outcome_at = NULL, outcome_final = 0
                 WHERE id = ? AND state = 'dialing' AND attempts = ?",
            )
            .bind(call_sid)
            .bind(conference_sid)
            .bind(queue_time_ms)
            .bind(status)
            .bind(now)
            .bind(now),
            Outcome::Retry { at, counts, http_status, code, message } => sqlx::query(
                "UPDATE rows SET state = 'pending', next_attempt_at = ?, failures = failures + ?,
                 last_status = ?, last_code = ?, last_message = ?, updated_at = ?
                 WHERE id = ? AND state = 'dialing' AND attempts = ?",
            )
            .bind(at)
            .bind(i64::from(*counts))
            .bind(http_status)
            .bind(code)
            .bind(message)
            .bind(now),
            Outcome::Failed { http_status, code, message } => sqlx::query(
                "UPDATE rows SET state = 'failed', failures = failures + 1, last_status = ?, last_code = ?,
                 last_message = ?, updated_at = ? WHERE id = ? AND state = 'dialing' AND attempts = ?",
            )
            .bind(http_status)
            .bind(code)
            .bind(message)
            .bind(now),
            Outcome::Unknown { check_at, http_status, code, message } => sqlx::query(
                "UPDATE rows SET state = 'unknown', next_attempt_at = ?, last_status = ?, last_code = ?,
                 last_message = ?, updated_at = ? WHERE id = ? AND state = 'dialing' AND attempts = ?",
            )
            .bind(check_at)
            .bind(http_status)
            .bind(code)
            .bind(message)
            .bind(now),
        }
        .bind(claimed.row_id)
        .bind(claimed.attempt)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if fenced != 1 {
            return Err(StoreError::Corrupt(format!(
                "row {} was not in dialing state for attempt {}",
                claimed.row_id, claimed.attempt
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    /// A pending row that has used up its attempts.
    pub async fn give_up(&self, row_id: i64, why: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE rows SET state = 'failed', last_message = ?, updated_at = ? WHERE id = ? AND state IN ('pending', 'dialing')")
            .bind(why)
            .bind(now_ms())
            .bind(row_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// When the next pending row falls due (unix ms), if any. Each state's query reads its
    /// own partial index, so this stays cheap on a million-row campaign.
    pub async fn next_pending_at(&self) -> Result<Option<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM rows WHERE state = 'pending'")
                .fetch_one(&self.pool)
                .await?,
        )
    }
}
