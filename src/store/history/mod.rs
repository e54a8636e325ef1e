//! A campaign's whole history, read out of one database and written into another (`dialer
//! move`), each side in one transaction, written once for both backends: `read` takes one
//! snapshot of every table's part of the campaign, `write` creates the campaign with all of it
//! or nothing. Here: opening a campaign only if it is there, and creating one with a history,
//! on a pool of either backend before it is a campaign's store.

mod read;
mod write;

use super::dialect::on_backend;
use super::postgres::PgStore;
use super::sqlite::{self, SqliteStore};
use super::unresolved::Tx;
use super::{CampaignHistory, Database, LoadError, Store, StoreError};

impl Store {
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
            Some((campaign, key)) => pool.into_store(campaign, key).await.map(Some),
            None => {
                pool.close().await;
                Ok(None)
            }
        }
    }

    /// The campaign `name`, created in `database` with `history`, in one transaction: refused
    /// (`LoadError::Occupied`, nothing written) when the database has the campaign already
    /// with anything in it. A campaign there without rows, runs or rejects (opened by a
    /// report, say) is taken as it is. The campaign gets a key of its own in this database.
    pub async fn create_with_history(
        database: &Database,
        name: &str,
        history: &CampaignHistory,
    ) -> Result<Self, LoadError> {
        let pool = Pool::connect(database).await?;
        let written: Result<(i64, String), LoadError> = on_pool!(&pool, pool => {
            let mut tx = pool.begin().await?;
            let claimed = write::create(Tx::from(&mut tx), name, history).await?;
            tx.commit().await?;
            Ok(claimed)
        });
        match written {
            Ok((campaign, key)) => Ok(pool.into_store(campaign, Some(key)).await?),
            Err(e) => {
                pool.close().await;
                Err(e)
            }
        }
    }

    /// Every table's part of this campaign, rows and attempts in id order, in one snapshot (a
    /// `dialer campaign pause` or a callback written meanwhile is either all in it or not at
    /// all). Nothing is written.
    pub async fn history(&self) -> Result<CampaignHistory, StoreError> {
        on_backend!(self, db => {
            let mut tx = db.pool.begin().await?;
            let history = read::history(Tx::from(&mut tx), db.campaign).await?;
            tx.commit().await?;
            Ok(history)
        })
    }
}

/// A pool on either backend, before it is one campaign's store.
enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Runs `$body` with `$pool` bound to the pool of whichever backend `Pool` holds.
macro_rules! on_pool {
    ($held:expr, $pool:ident => $body:expr) => {
        match $held {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}
use on_pool;

impl Pool {
    /// A pool on `database` (an SQLite file is created if missing), its schema up to date.
    async fn connect(database: &Database) -> Result<Self, StoreError> {
        Ok(match database {
            Database::Sqlite(path) => Self::Sqlite(sqlite::connect(path).await?),
            Database::Postgres(url) => Self::Postgres(PgStore::connect_pool(url).await?),
        })
    }

    /// The store of the campaign with id `campaign` and stored `key`.
    async fn into_store(self, campaign: i64, key: Option<String>) -> Result<Store, StoreError> {
        Ok(match self {
            Self::Sqlite(pool) => Store::Sqlite(SqliteStore::of_campaign(pool, campaign, key)?),
            // NOT NULL on PostgreSQL: an empty key fails to parse, as a corrupt one does.
            Self::Postgres(pool) => Store::Postgres(
                PgStore::of_campaign(pool, campaign, key.as_deref().unwrap_or_default()).await?,
            ),
        })
    }

    async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}
