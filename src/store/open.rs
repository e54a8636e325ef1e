//! Opening a campaign, written once for both databases: a pool on the database (each backend's
//! own way: `sqlite` makes the file, `postgres` connects; both bring the schema up to date),
//! then the campaign in it, found or created, and this process's handle on it.

use super::backend::Backend;
use super::{Database, Store, StoreClock, StoreError, postgres, sqlite};
use crate::domain::CampaignKey;

/// A pool on either backend, before it is one campaign's store.
pub(super) enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Runs `$body` with `$pool` bound to the pool of whichever backend `Pool` holds.
macro_rules! on_pool {
    ($held:expr, $pool:ident => $body:expr) => {
        match $held {
            $crate::store::open::Pool::Sqlite($pool) => $body,
            $crate::store::open::Pool::Postgres($pool) => $body,
        }
    };
}
pub(super) use on_pool;

impl Store {
    /// The campaign `name` in `database` (created, or brought up to date).
    pub async fn open(database: &Database, name: &str) -> Result<Self, StoreError> {
        Pool::connect(database).await?.open_campaign(name).await
    }

    /// As `open`, but `None` when no run ever wrote the database: commands that only read
    /// it (report, sync) do not create one.
    pub async fn open_existing(
        database: &Database,
        name: &str,
    ) -> Result<Option<Self>, StoreError> {
        if database.sqlite_file().is_some_and(|path| !path.exists()) {
            return Ok(None);
        }
        Self::open(database, name).await.map(Some)
    }

    /// The campaign `name` of `database` as it is: `None` when there is no such SQLite file or
    /// no such campaign in the database, and nothing is created (the schema is brought up to
    /// date).
    pub async fn open_existing_campaign(
        database: &Database,
        name: &str,
    ) -> Result<Option<Self>, StoreError> {
        if database.sqlite_file().is_some_and(|path| !path.exists()) {
            return Ok(None);
        }
        let pool = Pool::connect(database).await?;
        let campaign: Option<(i64, Option<String>)> = on_pool!(&pool, pool => {
            sqlx::query_as("SELECT id, callback_key FROM campaigns WHERE name = $1")
                .bind(name)
                .fetch_optional(pool)
                .await?
        });
        match campaign {
            Some((campaign, key)) => {
                let clock = pool.clock().await?;
                pool.into_store(clock, campaign, key).map(Some)
            }
            None => {
                pool.close().await;
                Ok(None)
            }
        }
    }

    /// A store in memory, thrown away with it: for checking a list as an import would, without
    /// touching the campaign's database.
    pub async fn open_scratch(name: &str) -> Result<Self, StoreError> {
        Pool::Sqlite(sqlite::scratch().await?)
            .open_campaign(name)
            .await
    }
}

impl Pool {
    /// A pool on `database` (an SQLite file is created if missing), its schema up to date.
    pub(super) async fn connect(database: &Database) -> Result<Self, StoreError> {
        Ok(match database {
            Database::Sqlite(path) => Self::Sqlite(sqlite::connect(path).await?),
            Database::Postgres(url) => Self::Postgres(postgres::shared_pool(url).await?),
        })
    }

    /// The campaign named `name`, created on first use. Two hosts opening a new campaign at
    /// once: one inserts it, the other's insert waits for that commit and does nothing; both
    /// then read the same id. An SQLite file written before campaigns shared one holds a single
    /// unnamed campaign: the first campaign file to open it names it.
    async fn open_campaign(self, name: &str) -> Result<Store, StoreError> {
        let clock = self.clock().await?;
        let created_at = clock.now_ms();
        let (campaign, key) = on_pool!(&self, pool => {
            let mut tx = pool.begin().await?;
            if matches!(self, Self::Sqlite(_)) {
                sqlx::query(
                    "UPDATE campaigns SET name = $1 WHERE name IS NULL
                     AND NOT EXISTS (SELECT 1 FROM campaigns WHERE name = $1)",
                )
                .bind(name)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO campaigns (name, created_at, callback_key) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(created_at)
            .bind(CampaignKey::random().to_string())
            .execute(&mut *tx)
            .await?;
            let found: (i64, Option<String>) =
                sqlx::query_as("SELECT id, callback_key FROM campaigns WHERE name = $1")
                    .bind(name)
                    .fetch_one(&mut *tx)
                    .await?;
            tx.commit().await?;
            found
        });
        self.into_store(clock, campaign, key)
    }

    /// The store's clock on this database: the server's on PostgreSQL, this machine's for its
    /// SQLite file.
    pub(super) async fn clock(&self) -> Result<StoreClock, StoreError> {
        match self {
            Self::Sqlite(_) => Ok(StoreClock::of_this_machine()),
            Self::Postgres(pool) => postgres::read_clock(pool).await,
        }
    }

    /// The store of the campaign with id `campaign` and stored `key`. Only a database written
    /// by hand has a campaign without a key: it reads as corrupt.
    pub(super) fn into_store(
        self,
        clock: StoreClock,
        campaign: i64,
        key: Option<String>,
    ) -> Result<Store, StoreError> {
        let key = key.unwrap_or_default();
        Ok(match self {
            Self::Sqlite(pool) => Store::Sqlite(Backend::new(pool, campaign, &key, clock)?),
            Self::Postgres(pool) => Store::Postgres(Backend::new(pool, campaign, &key, clock)?),
        })
    }

    /// Closes an SQLite file's pool; a PostgreSQL pool is the process's, and stays open.
    pub(super) async fn close(&self) {
        if let Self::Sqlite(pool) = self {
            pool.close().await;
        }
    }
}
