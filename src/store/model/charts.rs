//! What the HTML report's charts read: create requests and queue_time over time, Twilio's
//! refusals by error code, and ended calls by the callee's zone and the quarter hour they were
//! placed in. Aggregated by the database, so a run of 100,000 calls reads back as a few
//! hundred values, never one per call.

use crate::domain::CalleeZones;
use crate::store::codec::Stored;
use sqlx::FromRow;

/// When the first and the last create request of a spell of dialing were sent (unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptSpan {
    pub first_ms: i64,
    pub last_ms: i64,
}

/// The create requests sent in one span of time, `width` seconds from `start_sec`.
#[derive(Debug, Clone, Copy, PartialEq, FromRow)]
pub struct RequestBucket {
    /// Unix seconds, a multiple of the bucket width.
    pub start_sec: i64,
    /// Every create request sent in it, refused and retried ones included.
    #[sqlx(try_from = "i64")]
    pub requests: u64,
    /// The most requests sent in any one second of it.
    #[sqlx(try_from = "i64")]
    pub busiest_second: u64,
    /// Requests of it that created a call (what the CPS limits: a request Twilio refused
    /// unprocessed placed no call), and the most of those in any one second.
    #[sqlx(try_from = "i64")]
    pub created: u64,
    #[sqlx(try_from = "i64")]
    pub busiest_second_created: u64,
    /// Created calls whose answer gave a queue_time, their average and longest (ms).
    #[sqlx(try_from = "i64")]
    pub queued_calls: u64,
    pub queue_time_avg_ms: Option<f64>,
    pub queue_time_max_ms: Option<i64>,
}

/// Create requests that Twilio answered with an error (or that got no answer), by Twilio's
/// error code, and what became of each request.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct RequestErrors {
    /// Twilio's code; `None` for requests without one (no answer, a connection lost).
    #[sqlx(try_from = "Stored<Option<i64>>", rename = "twilio_code")]
    pub code: Option<u32>,
    /// One of the messages recorded with the code.
    pub message: String,
    /// Not processed by Twilio, and sent again later (a 429, say).
    #[sqlx(try_from = "i64")]
    pub retried: u64,
    /// Refused for good: the row failed.
    #[sqlx(try_from = "i64")]
    pub failed: u64,
    /// No usable answer: the call may have been created, and was checked with Twilio.
    #[sqlx(try_from = "i64")]
    pub in_doubt: u64,
}

impl RequestErrors {
    pub fn requests(&self) -> u64 {
        self.retried + self.failed + self.in_doubt
    }
}

/// Ended calls placed in one quarter hour to rows of one stored zone. Every time zone's
/// offset is a whole number of quarter hours, so each quarter falls in one local hour.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ZoneQuarterCalls {
    /// The rows' stored zones (one IANA zone, or several); `None`: the campaign's zone.
    pub zones: Option<CalleeZones>,
    /// Unix ms of the quarter hour's start.
    pub quarter_start_ms: i64,
    /// Calls with a final status (completed, busy, no-answer, failed, canceled).
    #[sqlx(try_from = "i64")]
    pub ended: u64,
    /// Of those, calls that were answered (`completed`).
    #[sqlx(try_from = "i64")]
    pub answered: u64,
    /// Of those, calls a person answered (answering machine detection said `human`).
    #[sqlx(try_from = "i64")]
    pub answered_by_human: u64,
}

/// A quarter hour, in ms: the unit calls are grouped by before their zone is applied.
pub const QUARTER_HOUR_MS: i64 = 15 * 60 * 1000;
