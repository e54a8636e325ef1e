//! The embedded backend: one SQLite file on this machine, written with WAL and
//! `synchronous=FULL` (a power loss cannot forget that a number was dialed). One file may hold
//! several campaigns; a handle works on one of them, and every statement names it. Here: the
//! pool and its settings; what a store does with it is written once, beside PostgreSQL's.

use super::StoreError;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, SqliteConnection};
use std::path::Path;
use std::time::Duration;

/// A database in memory, thrown away with its pool. One connection, kept open, holds the
/// whole database.
pub(super) async fn scratch() -> Result<SqlitePool, StoreError> {
    let pool = SqlitePoolOptions::new()
        .min_connections(1)
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(
            SqliteConnectOptions::new()
                .in_memory(true)
                .foreign_keys(false),
        )
        .await
        .map_err(|cause| StoreError::Open {
            path: "(in memory)".to_owned(),
            cause,
        })?;
    sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&pool)
        .await?;
    Ok(pool)
}

/// Opens of a file that found it busy past its busy timeout, tried again before failing.
const OPEN_ATTEMPTS: u32 = 10;

/// A pool on the file at `path` (created if missing), brought up to date. Processes opening a
/// new file at once race to set it up (switching it to WAL, its first migrations), and SQLite
/// answers some of those steps `database is locked` at once rather than through the busy
/// timeout: such an open is tried again, a little later each time.
pub(super) async fn connect(path: &Path) -> Result<SqlitePool, StoreError> {
    let mut attempt = 1;
    loop {
        match connect_once(path).await {
            Err(e) if attempt < OPEN_ATTEMPTS && is_busy(&e) => {
                tokio::time::sleep(Duration::from_millis(50) * attempt).await;
                attempt += 1;
            }
            opened => return opened,
        }
    }
}

/// Whether SQLite said the file was busy (`SQLITE_BUSY`, extended codes included).
fn is_busy(error: &StoreError) -> bool {
    let cause = match error {
        StoreError::Open { cause, .. }
        | StoreError::Sql(cause)
        | StoreError::Migrate(sqlx::migrate::MigrateError::Execute(cause)) => cause,
        _ => return false,
    };
    cause
        .as_database_error()
        .and_then(|e| e.code())
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == 5)
}

async fn connect_once(path: &Path) -> Result<SqlitePool, StoreError> {
    let failed = |cause| StoreError::Open {
        path: path.display().to_string(),
        cause,
    };
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a power loss cannot forget that a number was dialed.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10));
    migrate(options.clone()).await.map_err(|e| match e {
        StoreError::Sql(cause) => failed(cause),
        other => other,
    })?;
    SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options.foreign_keys(true))
        .await
        .map_err(failed)
}

/// Brings the database up to date on a connection of its own with foreign keys off: a
/// migration that rebuilds a table others refer to needs them off, and SQLite ignores the
/// switch inside a transaction (each migration runs in one).
///
/// Campaigns that share a file may open it at once, and sqlx takes no lock on SQLite: two
/// processes would both find a migration missing and the second would fail on its tables.
/// So the migrations run inside one exclusive transaction (each in a savepoint of it): the
/// others wait for it (the busy timeout) and then find every migration applied.
async fn migrate(options: SqliteConnectOptions) -> Result<(), StoreError> {
    let mut connection = SqliteConnection::connect_with(&options.foreign_keys(false)).await?;
    let mut exclusive = connection.begin_with("BEGIN EXCLUSIVE").await?;
    sqlx::migrate!("./migrations/sqlite")
        .run(&mut *exclusive)
        .await?;
    exclusive.commit().await?;
    connection.close().await?;
    Ok(())
}
