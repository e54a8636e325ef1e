//! What a worker with nothing to dial reads of a campaign between passes (`store::idle`).

use crate::domain::CampaignStatus;

/// A campaign between passes: whether it may dial, and when its work falls due (unix ms, on
/// the store's clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lull {
    pub status: CampaignStatus,
    /// The earliest due time of a pending row or a row in doubt, or the end of a lease (a
    /// take-over); `None` when there is none.
    pub next_due_at: Option<i64>,
    /// When the oldest call still awaiting its outcome was created.
    pub oldest_awaiting: Option<i64>,
}

/// What a run that found nothing to claim still has to wait for, read in one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Left {
    /// When the next pending row that is not waiting for a redial falls due (a retry).
    pub next_retry_at: Option<i64>,
    /// Rows in doubt.
    pub unknown: u64,
    /// Rows other live holders are dialing (always 0 on SQLite).
    pub dialing_elsewhere: u64,
}
