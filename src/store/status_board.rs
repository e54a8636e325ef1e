//! The statuses of every campaign of a shared database, read for all of them at once. Each run
//! watches its campaign's status (a pause or a cancel from any host) every second; a worker
//! dialing a hundred campaigns on one PostgreSQL would ask a hundred statements a second for
//! it. Instead the process keeps one board per database, read whole by one statement when the
//! reading asked for is older than the caller allows. On SQLite a run reads its own.

use super::{Store, StoreError};
use crate::domain::CampaignStatus;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Board {
    read_at: Option<Instant>,
    statuses: HashMap<i64, CampaignStatus>,
}

type Boards = Mutex<HashMap<String, Arc<tokio::sync::Mutex<Board>>>>;

impl Store {
    /// The campaign's status as read at most `max_age` ago (by any run of this process on the
    /// same database).
    pub async fn recent_campaign_status(
        &self,
        max_age: Duration,
    ) -> Result<CampaignStatus, StoreError> {
        let Self::Postgres(db) = self else {
            return self.campaign_status().await;
        };
        let board = board_of(&db.pool);
        let mut board = board.lock().await;
        let stale = board.read_at.is_none_or(|at| at.elapsed() > max_age);
        if stale || !board.statuses.contains_key(&db.campaign) {
            let read: Vec<(i64, CampaignStatus)> =
                sqlx::query_as("SELECT id, status FROM campaigns")
                    .fetch_all(&db.pool)
                    .await?;
            board.statuses = read.into_iter().collect();
            board.read_at = Some(Instant::now());
        }
        // A campaign the database no longer holds reads as running, as `campaign_status` would
        // have failed: its run finds out at its next statement.
        Ok(board
            .statuses
            .get(&db.campaign)
            .copied()
            .unwrap_or(CampaignStatus::Running))
    }
}

/// This process's board for the database `pool` is on.
fn board_of(pool: &sqlx::PgPool) -> Arc<tokio::sync::Mutex<Board>> {
    static BOARDS: OnceLock<Boards> = OnceLock::new();
    let options = pool.connect_options();
    let key = format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or_default()
    );
    BOARDS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_default()
        .clone()
}
