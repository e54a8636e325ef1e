//! The shared backend: one campaign of a PostgreSQL database that several hosts dial together,
//! each row exactly once. The same semantics as the SQLite store, with what sharing adds: a
//! claimed row carries its holder (this process) and a lease on the database's clock, every
//! change of a claimed row is fenced on that holder, and a row whose holder went silent is
//! taken over as in doubt, to be reconciled with Twilio.

mod leases;
mod rows;

use super::{AccountSchedule, ConnectError, connect};
use crate::domain::{AccountSid, CampaignKey, DatabaseUrl};
use crate::store::{StoreClock, StoreError};
use sqlx::postgres::PgPool;
use std::time::Duration;

/// How long a claim holds its row without a heartbeat. Longer than a create request can take
/// (its timeout) plus the slowest wait for a pacing slot after the claim, so that a live
/// process never loses a row it is about to send; short enough that a dead host's rows are
/// taken over (and reconciled) within a minute or two.
pub const LEASE: Duration = Duration::from_secs(60);

/// One campaign of one PostgreSQL database, as one process (the holder) works on it.
#[derive(Clone)]
pub struct PgStore {
    pub(in crate::store) pool: PgPool,
    /// `campaigns.id`: every statement is scoped by it.
    pub(in crate::store) campaign: i64,
    /// `campaigns.callback_key`: what this campaign's attempt tokens carry.
    key: CampaignKey,
    /// This process, as the rows it claims name it: `host:pid:random`.
    holder: String,
    /// How long a claim or a heartbeat holds a row.
    lease: Duration,
    /// The database server's clock, which every host writes and compares times on.
    clock: StoreClock,
}

impl PgStore {
    /// The campaign `name` in the database at `url`, created on first use; the database's
    /// schema is brought up to date first.
    pub async fn open(url: &DatabaseUrl, name: &str) -> Result<Self, StoreError> {
        let pool = connect(url).await.map_err(connect_failed)?;
        let clock = read_clock(&pool).await?;
        // Two hosts opening a new campaign at once: one inserts it, the other's insert waits
        // for that commit and does nothing; both then read the same id.
        sqlx::query(
            "INSERT INTO campaigns (name, created_at, callback_key) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(clock.now_ms())
        .bind(CampaignKey::random().to_string())
        .execute(&pool)
        .await?;
        let (campaign, key): (i64, String) =
            sqlx::query_as("SELECT id, callback_key FROM campaigns WHERE name = $1")
                .bind(name)
                .fetch_one(&pool)
                .await?;
        Ok(Self {
            pool,
            campaign,
            key: campaign_key(&key)?,
            holder: holder(),
            lease: LEASE,
            clock,
        })
    }

    /// A pool on the database at `url`, its schema brought up to date, for `of_campaign`.
    pub(in crate::store) async fn connect_pool(url: &DatabaseUrl) -> Result<PgPool, StoreError> {
        connect(url).await.map_err(connect_failed)
    }

    /// A handle on the campaign with id `campaign` and stored `key`, of the database `pool`
    /// is on (for `Store::open_existing_campaign` and `Store::create_with_history`).
    pub(in crate::store) async fn of_campaign(
        pool: PgPool,
        campaign: i64,
        key: &str,
    ) -> Result<Self, StoreError> {
        let clock = read_clock(&pool).await?;
        Ok(Self {
            pool,
            campaign,
            key: campaign_key(key)?,
            holder: holder(),
            lease: LEASE,
            clock,
        })
    }

    /// Now on the database's clock (unix ms), without a round trip.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub fn campaign_key(&self) -> CampaignKey {
        self.key
    }

    /// The same store with claims holding their rows for `lease`.
    pub fn with_lease(self, lease: Duration) -> Self {
        Self { lease, ..self }
    }

    /// The account's call schedule in this database, shared by every host.
    pub fn account_schedule(&self, account: &AccountSid) -> AccountSchedule {
        AccountSchedule::new(self.pool.clone(), account.clone())
    }

    /// The lease in whole milliseconds, as statements add it to the database's clock.
    fn lease_ms(&self) -> i64 {
        millis(self.lease)
    }
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
async fn read_clock(pool: &PgPool) -> Result<StoreClock, StoreError> {
    let sent = std::time::Instant::now();
    let read_ms: i64 = sqlx::query_scalar("SELECT unix_ms()")
        .fetch_one(pool)
        .await?;
    let round_trip = sent.elapsed();
    Ok(StoreClock::anchored(sent + round_trip / 2, read_ms))
}

/// This process among the hosts: its host name, its pid, and a random part, since a pid is
/// reused and two containers may share a host name.
fn holder() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "host".to_owned());
    format!(
        "{host}:{}:{:016x}",
        std::process::id(),
        rand::random::<u64>()
    )
}

/// A duration in whole milliseconds, as the database stores times (saturating: no lease or
/// timeout comes near 292 million years).
fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// A campaign's key as read back.
fn campaign_key(stored: &str) -> Result<CampaignKey, StoreError> {
    CampaignKey::parse(stored).map_err(|e| StoreError::Corrupt(format!("callback_key: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_holders_of_one_process_are_told_apart() {
        let (one, other) = (holder(), holder());

        assert_ne!(one, other);
        let pid = std::process::id().to_string();
        assert_eq!(one.split(':').nth(1), Some(pid.as_str()), "{one}");
    }

    #[test]
    fn durations_become_milliseconds_without_wrapping() {
        assert_eq!(millis(Duration::from_millis(1_500)), 1_500);
        assert_eq!(millis(Duration::MAX), i64::MAX);
    }
}
