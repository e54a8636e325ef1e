//! The campaign's SQLite database: the only module that speaks SQL, so that PostgreSQL can
//! come later behind the same functions.
//!
//! Durability is the point of this module: an attempt is committed (WAL, `synchronous=FULL`)
//! before its request leaves, so a crash at any instant leaves either no attempt (nothing
//! was sent) or a `dialing` row that the next run reconciles with Twilio before any re-dial.

mod codec;
pub mod control;
mod list_import;
mod outcomes;
pub mod postgres;
mod report;
mod rows;
mod unresolved;

pub use list_import::{FinishedImport, ImportPass, Inserted, NewRow, Reject};
pub use outcomes::{
    AwaitingCall, CallEvent, CallObservation, CallOutcomes, EventSource, Recorded, Redial,
};
pub use report::{AttemptCounts, FailureGroup, RowExport, StateCounts};
pub use rows::{Claimed, Outcome};
pub use unresolved::Unresolved;

use crate::domain::ConferenceSid;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::Path;
use std::time::Duration;

/// A transaction on the campaign database, for statements shared by several changes.
type Tx<'c> = sqlx::Transaction<'c, sqlx::Sqlite>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("could not open the campaign database {path}: {cause}")]
    Open { path: String, cause: sqlx::Error },
    #[error("could not bring the campaign database up to date: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    #[error("campaign database error: {0}")]
    Sql(sqlx::Error),
    #[error("corrupt value in the campaign database: {0}")]
    Corrupt(String),
}

// The cause is in the message already; as a `source` too, every error chain printed it twice.
impl From<sqlx::Error> for StoreError {
    fn from(cause: sqlx::Error) -> Self {
        Self::Sql(cause)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(cause: sqlx::migrate::MigrateError) -> Self {
        Self::Migrate(cause)
    }
}

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

/// Milliseconds since the Unix epoch: how every time is stored.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl Store {
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a power loss cannot forget that a number was dialed.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|cause| StoreError::Open {
                path: path.display().to_string(),
                cause,
            })?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    /// A store in memory, thrown away with it: for checking a list as an import would, without
    /// touching the campaign's database. One connection, kept open, holds the whole database.
    pub async fn open_scratch() -> Result<Self, StoreError> {
        let pool = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(SqliteConnectOptions::new().in_memory(true))
            .await
            .map_err(|cause| StoreError::Open {
                path: "(in memory)".to_owned(),
                cause,
            })?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn start_run(&self) -> Result<i64, StoreError> {
        let id = sqlx::query_scalar("INSERT INTO runs (started_at) VALUES (?) RETURNING id")
            .bind(now_ms())
            .fetch_one(&self.pool)
            .await?;
        Ok(id)
    }

    pub async fn finish_run(&self, run: i64, exit_code: i32) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET finished_at = ?, exit_code = ? WHERE id = ?")
            .bind(now_ms())
            .bind(exit_code)
            .bind(run)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The conference SID Twilio gave for a friendly name, once a create has answered.
    pub async fn conference_sid(&self, target: &str) -> Result<Option<ConferenceSid>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT sid FROM conferences WHERE target = ?")
                .bind(target)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn remember_conference(
        &self,
        target: &str,
        sid: &ConferenceSid,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO conferences (target, sid) VALUES (?, ?) ON CONFLICT (target) DO UPDATE SET sid = excluded.sid")
            .bind(target)
            .bind(sid)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
