//! What recording a call's outcome takes and gives back (`store::outcomes` records it): an
//! observation of a call, the campaign's redial rule, and what the recording changed.

use crate::domain::{AttemptToken, CallSid, CallStatus, Endpoint, named_enum};
use crate::store::codec::StoredOverrides;
use crate::twilio::{ParamError, RowOverrides};
use std::time::Duration;

named_enum! {
    /// Where an observation of a call came from.
    pub enum EventSource("an event source") {
        Callback = "callback",
        Poll = "poll",
    }
}

/// One status of one call, as a callback or a poll saw it.
#[derive(Debug, Clone)]
pub struct CallObservation {
    pub call_sid: CallSid,
    /// The attempt the callback URL named, when it came through a signed callback.
    pub attempt: Option<AttemptToken>,
    pub source: EventSource,
    /// Twilio's SequenceNumber for callbacks; the status's progress for polls.
    pub sequence_number: i64,
    pub status: CallStatus,
    pub answered_by: Option<String>,
    pub duration_secs: Option<i64>,
    /// JSON object of what Twilio sent.
    pub params: String,
}

/// Who an attempt's call went to, and its row's own values (its caller, when it has its own):
/// what a callback that names the attempt must match to be that attempt's call.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptParty {
    #[sqlx(rename = "to_endpoint")]
    pub to: Endpoint,
    /// The row's own values, or why they no longer read.
    #[sqlx(try_from = "StoredOverrides")]
    pub params: Result<RowOverrides, ParamError>,
}

/// The campaign's rule for this status: call again `after` this long, within `max_attempts`.
#[derive(Debug, Clone, Copy)]
pub struct Redial {
    pub after: Duration,
    pub max_attempts: u32,
}

impl Redial {
    /// When a row whose call ended at `now` (unix ms) is called again: only once the call is
    /// `final`, and while the row has made fewer than `max_attempts` attempts (counted since
    /// it was last requeued: a requeue gives a fresh budget).
    pub(in crate::store) fn at(self, now: i64, is_final: bool, attempts: i64) -> Option<i64> {
        (is_final && attempts < i64::from(self.max_attempts))
            .then(|| now + i64::try_from(self.after.as_millis()).unwrap_or(i64::MAX / 2))
    }
}

impl CallObservation {
    /// Whether this observation moves the call on from `current` (its attempt's status):
    /// a final status never changes, a final one always wins, and otherwise the newest event
    /// of its source, no earlier in a call's progress, is news.
    pub(in crate::store) fn is_news(&self, current: Option<CallStatus>, newer_seen: bool) -> bool {
        match current {
            Some(current) if current.is_final() => false,
            _ if self.status.is_final() => true,
            Some(current) => !newer_seen && self.status.progress() >= current.progress(),
            None => !newer_seen,
        }
    }
}

/// What recording an observation changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The same event was recorded before.
    Duplicate,
    /// Kept, but a newer or final status was already applied.
    Superseded,
    /// Kept, but no attempt of this campaign has this call SID.
    UnknownCall,
    /// The call's status moved on; `row_final` once the row has its final outcome, and
    /// `redial_at` (unix ms) when the row was put back to pending.
    Applied {
        row_final: bool,
        redial_at: Option<i64>,
    },
}
