//! The shared backend: opening one campaign of a PostgreSQL database that several hosts dial
//! together, each row exactly once, with the pool settings that sharing needs. What sharing
//! adds to the operations (a claimed row's lease on the database's clock, the take-over of a
//! silent holder's rows, the account's schedule) is written beside SQLite's way in each area.
//!
//! Time on this backend is the database's clock (`unix_ms()`), never a host's: hosts whose
//! clocks disagree still agree on leases and on the schedule.

use super::{StoreClock, StoreError};
use crate::domain::DatabaseUrl;
use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

/// Connections one process keeps: a slot is taken in about a millisecond, and several
/// concurrent requests of one run share them.
const MAX_CONNECTIONS: u32 = 4;
/// How long to wait for a free connection (or a server that restarts) before a statement
/// fails: the run then says that it waits for the database, and asks again.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// A transaction of ours never waits this long between two statements unless its host froze
/// (a paused VM, SIGSTOP) or lost the network mid-transaction; the server then ends it, so that
/// the rows it locked do not hold up every other host until it wakes.
/// Set on every connection (the statement in `connect` says it in SQL).
pub const IDLE_IN_TRANSACTION: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{url} is not a PostgreSQL address sqlx accepts: {cause}")]
    Address {
        url: DatabaseUrl,
        cause: sqlx::Error,
    },
    #[error("could not connect to the shared database {url}: {cause}")]
    Connect {
        url: DatabaseUrl,
        cause: sqlx::Error,
    },
    #[error("could not bring the shared database {url} up to date: {cause}")]
    Migrate {
        url: DatabaseUrl,
        cause: sqlx::migrate::MigrateError,
    },
}

/// The process's pool on the database at `url`, its schema brought up to date when this
/// process first opened it: every campaign and account schedule of the process shares it, so
/// migrations run once and a run that ends closes nothing another still uses (the pool lives as
/// long as the process).
pub(super) async fn shared_pool(url: &DatabaseUrl) -> Result<PgPool, StoreError> {
    static POOLS: OnceLock<tokio::sync::Mutex<HashMap<String, PgPool>>> = OnceLock::new();
    let mut pools = POOLS.get_or_init(Default::default).lock().await;
    let key = url.without_password().to_string();
    if let Some(pool) = pools.get(&key).filter(|pool| !pool.is_closed()) {
        return Ok(pool.clone());
    }
    let pool = connect(url).await.map_err(connect_failed)?;
    pools.insert(key, pool.clone());
    Ok(pool)
}

/// A failed connection as the store reports it, the address with its password masked.
fn connect_failed(error: ConnectError) -> StoreError {
    match error {
        ConnectError::Address { url, cause } | ConnectError::Connect { url, cause } => {
            StoreError::Open {
                path: url.to_string(),
                cause,
            }
        }
        ConnectError::Migrate { cause, .. } => StoreError::Migrate(cause),
    }
}

/// The database server's clock, read once: the reading is placed halfway through the round
/// trip, so it is off by at most half of it (a millisecond or two on a healthy network).
pub(super) async fn read_clock(pool: &PgPool) -> Result<StoreClock, StoreError> {
    let sent = std::time::Instant::now();
    let read_ms: i64 = sqlx::query_scalar("SELECT unix_ms()")
        .fetch_one(pool)
        .await?;
    let round_trip = sent.elapsed();
    Ok(StoreClock::anchored(sent + round_trip / 2, read_ms))
}

/// A pool on the database at `url`, its schema brought up to date.
pub async fn connect(url: &DatabaseUrl) -> Result<PgPool, ConnectError> {
    let options = connect_options(url).map_err(|cause| ConnectError::Address {
        url: url.clone(),
        cause,
    })?;
    let pool = PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(|connection, _| {
            Box::pin(async move {
                sqlx::query("SET idle_in_transaction_session_timeout = '5s'")
                    .execute(connection)
                    .await
                    .map(|_| ())
            })
        })
        .connect_with(options)
        .await
        .map_err(|cause| ConnectError::Connect {
            url: url.clone(),
            cause,
        })?;
    sqlx::migrate!("./migrations/postgres")
        .run(&pool)
        .await
        .map_err(|cause| ConnectError::Migrate {
            url: url.clone(),
            cause,
        })?;
    Ok(pool)
}

/// sqlx's options for `url`. The password is set apart from the URL, where sqlx would keep it
/// in plain text; without one, sqlx falls back on `PGPASSWORD` and `~/.pgpass` as libpq does.
fn connect_options(url: &DatabaseUrl) -> Result<PgConnectOptions, sqlx::Error> {
    let options = PgConnectOptions::from_str(url.without_password().as_str())?;
    Ok(match url.password() {
        Some(password) => options.password(password.expose_secret()),
        None => options,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_reaches_sqlx_apart_from_the_address() {
        let url =
            DatabaseUrl::parse("postgres://app:p%40ss@db.example:6432/dialer?sslmode=disable")
                .unwrap();

        let options = connect_options(&url).unwrap();

        assert_eq!(options.get_host(), "db.example");
        assert_eq!(options.get_port(), 6432);
        assert_eq!(options.get_username(), "app");
        assert_eq!(options.get_database(), Some("dialer"));
        let shown = format!(
            "{}",
            ConnectError::Address {
                url,
                cause: sqlx::Error::PoolTimedOut
            }
        );
        assert!(
            !shown.contains("p@ss") && !shown.contains("p%40ss"),
            "{shown}"
        );
    }
}
