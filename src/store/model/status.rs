//! What `dialer status` reads of one campaign: grouped counts and earliest times only, so it
//! costs the same on a million rows as on ten.

use crate::domain::{CampaignStatus, Hold};
use crate::store::RunRecord;
use crate::store::StateCounts;

#[derive(Debug, Clone, PartialEq)]
pub struct CampaignNow {
    pub status: CampaignStatus,
    pub states: StateCounts,
    /// Each process with rows claimed now: its holder (`host:pid:random`), how many rows, and
    /// when its lease on them runs out (unix ms; none on SQLite, where the lock holds them).
    pub dialing: Vec<Dialer>,
    /// Rows in doubt, and when the first of them is checked with Twilio again (unix ms).
    pub in_doubt: u64,
    pub in_doubt_next_check: Option<i64>,
    /// Pending rows held back until a later time, by what holds them.
    pub held: Vec<Held>,
    /// When the next pending row falls due (unix ms), unless one is due now.
    pub next_due: Option<i64>,
    pub last_run: Option<RunRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Dialer {
    pub holder: String,
    pub rows: i64,
    pub lease_expires_at: Option<i64>,
}

impl Dialer {
    /// The host and pid its holder names (`host:pid:random`).
    pub fn host_and_pid(&self) -> (&str, Option<u32>) {
        let mut parts = self.holder.split(':');
        let host = parts.next().unwrap_or_default();
        (host, parts.next().and_then(|pid| pid.parse().ok()))
    }
}

/// Rows a window or the frequency cap holds (`hold` none: deferred before holds were kept).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Held {
    #[sqlx(rename = "held_by")]
    pub hold: Option<Hold>,
    pub rows: i64,
    /// The first and the last release (unix ms).
    pub first: i64,
    pub last: i64,
}
