//! What reading outcomes back returns (`store::queries`).

use super::outcomes::EventSource;
use crate::domain::{CallSid, CallStatus};
use serde::Serialize;

/// A created call whose final status is not known yet.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AwaitingCall {
    #[sqlx(rename = "id")]
    pub row_id: i64,
    pub call_sid: CallSid,
    pub created_at: i64,
}

/// How the calls ended, over every call of the campaign (recycled rows' earlier calls included).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CallOutcomes {
    pub completed: u64,
    pub busy: u64,
    pub no_answer: u64,
    pub failed: u64,
    pub canceled: u64,
    pub answered_by_human: u64,
    pub answered_by_machine: u64,
    /// Talk time of the completed calls.
    pub talk_secs_total: u64,
    pub talk_secs_average: Option<f64>,
    /// Created rows whose call has no final status yet.
    pub awaiting: u64,
}

/// One recorded event of a call, as kept in its history.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CallEvent {
    pub source: EventSource,
    pub sequence_number: i64,
    pub call_status: CallStatus,
}
