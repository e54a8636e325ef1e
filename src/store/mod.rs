//! The campaign database: the only module that speaks SQL. One interface, `Store`, a handle on
//! one campaign of one database, over two backends: SQLite (embedded, one machine) and
//! PostgreSQL (shared by several hosts), each with its own migrations. Both are one `Backend`
//! (pool, campaign, holder, clock); only opening a pool differs (`sqlite`, `postgres`), and
//! `open` finds or creates the campaign, written once.
//!
//! Every operation is written once, as a plain `impl Store` method in its area's file (`rows`:
//! the claim and a claimed row's changes; `leases`: what sharing adds; `outcomes`, `unresolved`,
//! `list_import` with `import_batch`, `control`, `idle`, `report`, `charts`, `queries`,
//! `requeue`, `runs`, `history`, `status`).
//! `on_backend!` (`dialect`) compiles its one body and one statement text, with `$1` placeholders
//! that both drivers read, against each backend; `on_tx!` does the same for a step inside
//! another operation's transaction. Where the dialects truly differ (a claim with `SKIP
//! LOCKED`, a lease on the server's clock, a batch passed as arrays, writes inside `WITH`), the
//! method matches on the backend and the two statements stand side by side. The types that
//! cross the boundary (`model`) are typed, and decoded in `codec`.
//!
//! Durability is the point of this module: an attempt is committed before its request leaves,
//! so a crash at any instant leaves either no attempt (nothing was sent) or a `dialing` row
//! that is reconciled with Twilio before any re-dial.

mod account_schedule;
mod backend;
mod charts;
mod clock;
mod codec;
mod control;
mod copy_text;
mod dialect;
mod history;
mod idle;
mod import_batch;
mod leases;
mod list_import;
mod model;
mod open;
mod opt_outs;
mod outcomes;
mod plan;
mod postgres;
mod queries;
mod report;
mod requeue;
mod rows;
mod runs;
mod sqlite;
mod status;
mod status_board;
mod unresolved;

pub use account_schedule::{AccountSchedule, ScheduleError, Slot};
pub use backend::LEASE;
pub use clock::StoreClock;
pub use list_import::ImportTx;
pub use model::charts::{
    AttemptSpan, QUARTER_HOUR_MS, RequestBucket, RequestErrors, ZoneQuarterCalls,
};
pub use model::history::{
    AttemptRecord, CallEventRecord, CampaignHistory, ConferenceRecord, ImportRecord, LoadError,
    RejectRecord, RowRecord,
};
pub use model::idle::{Left, Lull};
pub use model::list_import::{FinishedImport, ImportPass, Inserted, NewRow, Reject};
pub use model::opt_outs::{OptOut, OptOutSource};
pub use model::outcomes::{AttemptParty, CallObservation, EventSource, Recorded, Redial};
pub use model::queries::{AwaitingCall, CallEvent, CallOutcomes};
pub use model::report::{AttemptCounts, FailureGroup, RowExport, StateCounts, ZoneSources};
pub use model::requeue::{RequeueRecord, RequeueSelection, Requeued, RequeuedRow};
pub use model::rows::{AttemptOutcome, Claimed, Outcome, PendingRow, RowGroup};
pub use model::runs::{RunRecord, RunTotals};
pub use model::status::{CampaignNow, Dialer, Held};
pub use model::unresolved::Unresolved;
pub use postgres::{ConnectError, IDLE_IN_TRANSACTION, connect as connect_postgres};

use backend::{PgStore, SqliteStore};
use dialect::on_backend;

use crate::domain::{CampaignKey, DatabaseUrl};
use std::path::{Path, PathBuf};

/// Where a campaign's database is.
#[derive(Debug, Clone)]
pub enum Database {
    /// An SQLite file on this machine (the default).
    Sqlite(PathBuf),
    /// A PostgreSQL database that several hosts share.
    Postgres(DatabaseUrl),
}

impl Database {
    /// The SQLite file, when the database is one.
    pub fn sqlite_file(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(path) => Some(path),
            Self::Postgres(_) => None,
        }
    }
}

impl std::fmt::Display for Database {
    /// The file, or the address with its password masked.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => write!(f, "{url}"),
        }
    }
}

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
    /// This process's lease on a row ran out and another host took the row over: the row is
    /// theirs to settle (it is reconciled with Twilio before any re-dial).
    #[error("the lease on row {row_id} (attempt {attempt}) was lost to another host")]
    LeaseLost { row_id: i64, attempt: i64 },
}

impl StoreError {
    /// The database could not be reached or asked to try again (a restart, a dropped
    /// connection, a failover, a serialization conflict): the same statement may succeed
    /// shortly. Nothing was written by the statement that failed.
    pub fn is_transient(&self) -> bool {
        let Self::Sql(cause) = self else {
            return false;
        };
        match cause {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                // 08: connection exceptions; 57P01-03: the server shutting down or starting;
                // 40001, 40P01: a serialization failure or deadlock, to be retried.
                code.starts_with("08") || code.starts_with("57P") || code.starts_with("40")
            }),
            _ => false,
        }
    }
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

/// One campaign of one database.
#[derive(Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Store {
    /// Now on the store's clock (unix ms): what every stored time is written in and compared
    /// with, the database's clock on PostgreSQL, never a host's.
    pub fn now_ms(&self) -> i64 {
        on_backend!(self, db => db.now_ms())
    }

    /// Closes the SQLite file's pool. A PostgreSQL pool is the process's, shared with its other
    /// campaigns and account schedules: it stays open.
    pub async fn close(&self) {
        if let Self::Sqlite(db) = self {
            db.close().await;
        }
    }

    /// The campaign's random key in this database, made when the campaign was created: its
    /// attempt tokens carry it, so that another campaign's callbacks name none of its rows.
    pub fn campaign_key(&self) -> CampaignKey {
        on_backend!(self, db => db.campaign_key())
    }
}
