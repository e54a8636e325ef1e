//! A campaign's runs as stored, and what each one sent.

use crate::domain::RunEnding;

/// One run of a campaign: when it started and ended, where, and how it exited.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunRecord {
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub exit_code: Option<i64>,
    pub host: Option<String>,
    /// Why its dialing ended, when it got that far.
    pub ending: Option<RunEnding>,
    /// This process as the run's attempts name it; none for a run recorded before it was kept.
    pub holder: Option<String>,
}

/// A run and the create requests it sent, counted by its holder (unknown without one).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunTotals {
    #[sqlx(flatten)]
    pub run: RunRecord,
    pub requests: Option<i64>,
    /// Requests that created a call, on the answer or on a later check.
    pub created: Option<i64>,
    /// When its first and its last request were sent (unix ms).
    pub first_request_at: Option<i64>,
    pub last_request_at: Option<i64>,
    /// When the first and the last request that created a call were sent.
    pub first_created_at: Option<i64>,
    pub last_created_at: Option<i64>,
}
