//! A backend's handle on one campaign, the same shape for both databases: the pool, the
//! campaign every statement is scoped by, this process as the rows it claims name it, and the
//! store's clock. Only opening differs (`sqlite`, `postgres`); everything a store does with an
//! open handle is written once, in its area's file.

use super::{StoreClock, StoreError};
use crate::domain::CampaignKey;
use std::time::Duration;

/// How long a claim holds its row on a shared database without a heartbeat (the default of
/// `database.lease`). Longer than a create request can take plus the slowest wait for a pacing
/// slot after the claim, so a live process never loses a row it is about to send; short enough
/// that a dead host's rows are taken over (and reconciled) within a minute or two.
pub const LEASE: Duration = Duration::from_secs(60);

/// One campaign of one database, as this process works on it.
pub struct Backend<DB: sqlx::Database> {
    pub(super) pool: sqlx::Pool<DB>,
    /// `campaigns.id`: every statement is scoped by it.
    pub(super) campaign: i64,
    /// `campaigns.callback_key`: what this campaign's attempt tokens carry.
    key: CampaignKey,
    /// This process, as the rows it claims name it: `host:pid:random`. Every change of a
    /// claimed row is fenced on it.
    pub(super) holder: String,
    /// How long a claim or a heartbeat holds a row on a shared database. SQLite sets no lease:
    /// a run holds the campaign's lock instead.
    lease: Duration,
    /// The clock every stored time is written in: the database server's on PostgreSQL.
    clock: StoreClock,
}

pub type SqliteStore = Backend<sqlx::Sqlite>;
pub type PgStore = Backend<sqlx::Postgres>;

// Derived, it would ask the driver's marker type to be `Clone` too.
impl<DB: sqlx::Database> Clone for Backend<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            holder: self.holder.clone(),
            ..*self
        }
    }
}

impl<DB: sqlx::Database> Backend<DB> {
    /// The campaign `campaign` (its key as stored) on `pool`, for a new holder.
    pub(super) fn new(
        pool: sqlx::Pool<DB>,
        campaign: i64,
        key: &str,
        clock: StoreClock,
    ) -> Result<Self, StoreError> {
        let key = CampaignKey::parse(key)
            .map_err(|e| StoreError::Corrupt(format!("callback_key: {e}")))?;
        Ok(Self {
            pool,
            campaign,
            key,
            holder: holder(),
            lease: LEASE,
            clock,
        })
    }

    /// The host this process runs on, as its holder names it.
    pub(super) fn host(&self) -> &str {
        self.holder.split(':').next().unwrap_or_default()
    }

    /// Now on the store's clock (unix ms), without a round trip.
    pub(super) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
    }

    pub(super) fn campaign_key(&self) -> CampaignKey {
        self.key
    }

    pub(super) fn with_lease(self, lease: Duration) -> Self {
        Self { lease, ..self }
    }

    /// The lease in whole milliseconds, as statements add it to the database's clock.
    pub(super) fn lease_ms(&self) -> i64 {
        millis(self.lease)
    }

    pub(super) fn lease(&self) -> Duration {
        self.lease
    }
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
pub(super) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
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
