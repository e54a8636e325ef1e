//! The embedded backend: one SQLite file on this machine, written with WAL and
//! `synchronous=FULL` (a power loss cannot forget that a number was dialed). One file may hold
//! several campaigns; a handle works on one of them, and every statement names it.

mod history;

use super::{Backend, StoreClock, StoreError};
use crate::domain::CampaignKey;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, SqliteConnection};
use std::path::Path;
use std::time::Duration;

impl Backend<sqlx::Sqlite> {
    pub async fn open(path: &Path, name: &str) -> Result<Self, StoreError> {
        Self::for_campaign(connect(path).await?, name).await
    }

    /// The campaign `name` of the file at `path` as it is: `None` when there is no such file
    /// or no such campaign in it, and nothing is created (the file is brought up to date).
    pub async fn open_existing_campaign(
        path: &Path,
        name: &str,
    ) -> Result<Option<Self>, StoreError> {
        if !path.exists() {
            return Ok(None);
        }
        let pool = connect(path).await?;
        let campaign: Option<(i64, Option<String>)> =
            sqlx::query_as("SELECT id, callback_key FROM campaigns WHERE name = $1")
                .bind(name)
                .fetch_optional(&pool)
                .await?;
        match campaign {
            Some((campaign, key)) => Self::new(
                pool,
                campaign,
                &key.unwrap_or_default(),
                StoreClock::of_this_machine(),
            )
            .map(Some),
            None => {
                pool.close().await;
                Ok(None)
            }
        }
    }

    /// A store in memory, thrown away with it. One connection, kept open, holds the whole
    /// database.
    pub async fn open_scratch(name: &str) -> Result<Self, StoreError> {
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
        Self::for_campaign(pool, name).await
    }

    /// The campaign named `name`, created on first use. A database written before campaigns
    /// shared one holds a single unnamed campaign: the first campaign file to open it names it.
    async fn for_campaign(pool: SqlitePool, name: &str) -> Result<Self, StoreError> {
        let clock = StoreClock::of_this_machine();
        let mut tx = pool.begin().await?;
        sqlx::query(
            "UPDATE campaigns SET name = ?1 WHERE name IS NULL
             AND NOT EXISTS (SELECT 1 FROM campaigns WHERE name = ?1)",
        )
        .bind(name)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO campaigns (name, created_at, callback_key) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(clock.now_ms())
        .bind(CampaignKey::random().to_string())
        .execute(&mut *tx)
        .await?;
        let (campaign, key): (i64, Option<String>) =
            sqlx::query_as("SELECT id, callback_key FROM campaigns WHERE name = $1")
                .bind(name)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        // Only a database written by hand has a campaign without a key: it reads as corrupt.
        Self::new(pool, campaign, &key.unwrap_or_default(), clock)
    }
}

/// A pool on the file at `path` (created if missing), brought up to date.
async fn connect(path: &Path) -> Result<SqlitePool, StoreError> {
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
async fn migrate(options: SqliteConnectOptions) -> Result<(), StoreError> {
    let mut connection = SqliteConnection::connect_with(&options.foreign_keys(false)).await?;
    sqlx::migrate!("./migrations/sqlite")
        .run(&mut connection)
        .await?;
    connection.close().await?;
    Ok(())
}
