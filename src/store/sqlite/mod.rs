//! The embedded backend: one SQLite file on this machine, written with WAL and
//! `synchronous=FULL` (a power loss cannot forget that a number was dialed). One file may hold
//! several campaigns; a handle works on one of them, and every statement names it.

mod rows;

use super::{StoreClock, StoreError};
use crate::domain::CampaignKey;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, SqliteConnection};
use std::path::Path;
use std::time::Duration;

/// A campaign's key as read back; only a database written by hand lacks one.
fn campaign_key(stored: Option<String>) -> Result<CampaignKey, StoreError> {
    stored
        .ok_or_else(|| StoreError::Corrupt("a campaign has no callback_key".into()))
        .and_then(|key| {
            CampaignKey::parse(&key).map_err(|e| StoreError::Corrupt(format!("callback_key: {e}")))
        })
}

/// One campaign of one SQLite database.
#[derive(Clone)]
pub struct SqliteStore {
    pub(in crate::store) pool: SqlitePool,
    /// `campaigns.id`: every statement is scoped by it.
    pub(in crate::store) campaign: i64,
    /// This machine's clock: the one database of one machine.
    clock: StoreClock,
    /// `campaigns.callback_key`: what this campaign's attempt tokens carry.
    key: CampaignKey,
}

impl SqliteStore {
    pub async fn open(path: &Path, name: &str) -> Result<Self, StoreError> {
        Self::for_campaign(connect(path).await?, name).await
    }

    /// A handle on the campaign with id `campaign` and stored `key`, of the database `pool`
    /// is on (for `Store::open_existing_campaign` and `Store::create_with_history`).
    pub(in crate::store) fn of_campaign(
        pool: SqlitePool,
        campaign: i64,
        key: Option<String>,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            pool,
            campaign,
            clock: StoreClock::of_this_machine(),
            key: campaign_key(key)?,
        })
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
            "INSERT INTO campaigns (name, created_at, callback_key) VALUES (?, ?, ?)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(clock.now_ms())
        .bind(CampaignKey::random().to_string())
        .execute(&mut *tx)
        .await?;
        let (campaign, key) =
            sqlx::query_as("SELECT id, callback_key FROM campaigns WHERE name = ?")
                .bind(name)
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(Self {
            pool,
            campaign,
            clock,
            key: campaign_key(key)?,
        })
    }

    /// Now on the store's clock (unix ms).
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub fn campaign_key(&self) -> CampaignKey {
        self.key
    }
}

/// A pool on the file at `path` (created if missing), brought up to date.
pub(in crate::store) async fn connect(path: &Path) -> Result<SqlitePool, StoreError> {
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
