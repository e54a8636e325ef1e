//! Read-only queries for progress lines, the report and the export.

use crate::domain::{CallSid, CallStatus, CalleeZones, Hold, Jurisdictions, LineState, RowState};
use crate::store::codec::Stored;
use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    pub pending: u64,
    pub dialing: u64,
    pub created: u64,
    pub failed: u64,
    pub unknown: u64,
    /// Pending rows that have been tried at least once (waiting for a retry).
    pub retrying: u64,
    pub rejected: u64,
    /// Never dialed: on a do-not-call list, or left pending when the campaign was canceled.
    pub suppressed: u64,
    pub canceled: u64,
}

impl StateCounts {
    /// Counts `n` rows in `state`, `tried` of them tried at least once.
    pub(in crate::store) fn add(&mut self, state: RowState, n: u64, tried: u64) {
        match state {
            RowState::Pending => {
                self.pending = n;
                self.retrying = tried;
            }
            RowState::Dialing => self.dialing = n,
            RowState::Created => self.created = n,
            RowState::Failed => self.failed = n,
            RowState::Unknown => self.unknown = n,
            RowState::Suppressed => self.suppressed = n,
            RowState::Canceled => self.canceled = n,
        }
    }

    /// The rows in `state`.
    pub fn of(&self, state: RowState) -> u64 {
        match state {
            RowState::Pending => self.pending,
            RowState::Dialing => self.dialing,
            RowState::Created => self.created,
            RowState::Failed => self.failed,
            RowState::Unknown => self.unknown,
            RowState::Suppressed => self.suppressed,
            RowState::Canceled => self.canceled,
        }
    }

    pub fn rows(&self) -> u64 {
        RowState::ALL.into_iter().map(|state| self.of(state)).sum()
    }

    /// Rows no run will dial again.
    pub fn done(&self) -> u64 {
        self.created + self.failed + self.suppressed + self.canceled
    }
}

/// Where the rows' callee zones came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ZoneSources {
    /// The list's `timezone` column.
    pub list: u64,
    /// The number's prefix (libphonenumber's map).
    pub prefix: u64,
    /// Neither: the campaign's `window.timezone`.
    pub campaign: u64,
    /// A zone imported before its source was recorded.
    pub unrecorded: u64,
}

impl ZoneSources {
    pub(in crate::store) fn add(&mut self, source: &str, n: i64) {
        let n = n as u64;
        match source {
            "list" => self.list += n,
            "prefix" => self.prefix += n,
            "campaign" => self.campaign += n,
            _ => self.unrecorded += n,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AttemptCounts {
    pub attempts: u64,
    pub by_outcome: Vec<(String, u64)>,
    /// Unix ms of the first attempt and of the last created call.
    pub first_attempt_at: Option<i64>,
    pub last_created_at: Option<i64>,
    /// Sorted queue_time of every created call, in ms.
    pub queue_times_ms: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct FailureGroup {
    #[sqlx(try_from = "Stored<Option<i64>>", rename = "last_code")]
    pub code: Option<u32>,
    pub message: String,
    #[sqlx(try_from = "i64", rename = "n")]
    pub rows: u64,
}

/// One list line as the export shows it: `to` and `label` as the line had them (a rejected
/// line's may not parse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RowExport {
    #[sqlx(try_from = "i64")]
    pub line: u64,
    #[sqlx(rename = "to_endpoint")]
    pub to: String,
    pub label: String,
    pub state: LineState,
    pub attempts: i64,
    pub call_sid: Option<CallSid>,
    pub queue_time_ms: Option<i64>,
    #[sqlx(rename = "last_code")]
    pub last_error_code: Option<i64>,
    /// The last error message of a row, or why a line was rejected at import.
    pub reason: Option<String>,
    /// For a rejected line whose `to` is already on an earlier line: that line.
    pub duplicate_of: Option<i64>,
    /// How the row's latest call ended (or where it is), once known.
    pub call_status: Option<CallStatus>,
    pub answered_by: Option<String>,
    pub duration_secs: Option<i64>,
    /// How many times the row was put back by `dialer campaign requeue`; the last time (unix
    /// ms), the attempts the row had made then, and what it had failed with.
    pub requeues: i64,
    pub requeued_at: Option<i64>,
    pub requeued_attempts: Option<i64>,
    pub requeued_code: Option<i64>,
    pub requeued_message: Option<String>,
    /// When a pending or in-doubt row is next due (unix ms), and what a pending row waits
    /// for (a calling window, the frequency cap) when the gate held it back.
    pub next_attempt_at: Option<i64>,
    pub held_by: Option<Hold>,
    /// The callee's own zones (`None`: the campaign's), in which a window's opening is told.
    #[serde(serialize_with = "zones_as_text")]
    pub timezone: Option<CalleeZones>,
    /// Whose calling rules bind the call (`None`: outside the US, or a rejected line).
    pub jurisdictions: Option<Jurisdictions>,
}

fn zones_as_text<S: serde::Serializer>(
    zones: &Option<CalleeZones>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&zones.as_ref().map(CalleeZones::as_str), serializer)
}
