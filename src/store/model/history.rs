//! A campaign's whole history as one value: every row with its state and counts, every
//! attempt, requeue, call event, reject, run, conference SID and import record, read from one
//! database and written into another (`dialer move`). Ids are the source's: the target assigns
//! its own, and an attempt or a requeue finds its row again through `RowRecord::id`.

use crate::domain::{
    CallSid, CallStatus, CampaignStatus, ConferenceSid, Endpoint, Hold, Label, RowState, ZoneSource,
};
use crate::store::{AttemptOutcome, EventSource, OptOut, RequeueRecord, RunRecord, StoreError};

/// Everything one campaign owns in its database.
#[derive(Debug, Clone)]
pub struct CampaignHistory {
    pub status: CampaignStatus,
    pub created_at: i64,
    pub rows: Vec<RowRecord>,
    pub attempts: Vec<AttemptRecord>,
    pub requeues: Vec<RequeueRecord>,
    pub call_events: Vec<CallEventRecord>,
    pub rejects: Vec<RejectRecord>,
    pub conferences: Vec<ConferenceRecord>,
    pub runs: Vec<RunRecord>,
    pub list_import: Option<ImportRecord>,
    /// Every opt-out of the source database (they are the database's, not the campaign's).
    pub opt_outs: Vec<OptOut>,
}

impl CampaignHistory {
    /// Rows being dialed: a run is under way, or one was killed and its rows are still to
    /// be reconciled. Such a campaign is not moved.
    pub fn dialing(&self) -> usize {
        self.rows
            .iter()
            .filter(|row| row.state == RowState::Dialing)
            .count()
    }
}

/// A row as stored, its lease (if its database has one) left behind.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RowRecord {
    /// The source's id, which the row's attempts name.
    pub id: i64,
    pub line: i64,
    #[sqlx(rename = "to_endpoint")]
    pub to: Endpoint,
    pub label: Label,
    /// The row's own values: the stored JSON object, copied as it is.
    pub params: String,
    pub state: RowState,
    pub attempts: i64,
    pub failures: i64,
    pub attempts_before_requeue: i64,
    pub next_attempt_at: i64,
    pub call_sid: Option<CallSid>,
    pub conference_sid: Option<ConferenceSid>,
    pub queue_time_ms: Option<i64>,
    pub last_status: Option<i64>,
    pub last_code: Option<i64>,
    pub last_message: Option<String>,
    pub created_at: Option<i64>,
    pub timezone: Option<String>,
    pub timezone_source: Option<ZoneSource>,
    pub call_status: Option<CallStatus>,
    pub answered_by: Option<String>,
    pub duration_secs: Option<i64>,
    pub outcome_at: Option<i64>,
    pub outcome_final: bool,
    pub updated_at: i64,
    /// What holds a row never tried: a calling window or the frequency cap.
    pub held_by: Option<Hold>,
    /// Whose calling rules bind it, as stored ('' outside the US; none before they were kept).
    pub jurisdictions: Option<String>,
    /// The person its number belongs to, as the list named them.
    pub person: Option<String>,
}

/// One create request of a row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRecord {
    /// The source's id of its row.
    pub row_id: i64,
    pub number: i64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub outcome: AttemptOutcome,
    pub http_status: Option<i64>,
    pub twilio_code: Option<i64>,
    pub message: Option<String>,
    pub call_sid: Option<CallSid>,
    pub queue_time_ms: Option<i64>,
    pub call_status: Option<CallStatus>,
    pub answered_by: Option<String>,
    pub duration_secs: Option<i64>,
    /// The run that sent it, as `RunRecord::holder` names it.
    pub holder: Option<String>,
}

/// One observation of a call, as received.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CallEventRecord {
    pub call_sid: CallSid,
    pub source: EventSource,
    pub sequence_number: i64,
    pub call_status: CallStatus,
    pub answered_by: Option<String>,
    pub duration_secs: Option<i64>,
    /// What Twilio sent: the stored JSON object, copied as it is.
    pub params: String,
    pub received_at: i64,
}

/// A line refused at import, with the columns an older import may have left empty.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RejectRecord {
    pub line: i64,
    pub reason: String,
    pub raw: Option<String>,
    pub to_written: Option<String>,
}

/// A conference SID learned from a create answer, by the target the campaign names.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConferenceRecord {
    pub target: String,
    pub sid: ConferenceSid,
}

/// The last import that read the whole list, with its JSON array of ignored columns as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportRecord {
    pub list_size: i64,
    pub list_modified_ns: i64,
    pub fingerprint: String,
    pub records: i64,
    pub accepted: i64,
    pub duplicates: i64,
    pub ignored_columns: String,
    pub finished_at: i64,
}

/// Why a history was not written into a database.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The target already holds the campaign, with something in it: nothing was written.
    #[error(
        "the database already holds campaign {name:?} ({rows} rows, {runs} runs): a campaign is \
         moved only into a database that does not have it yet"
    )]
    Occupied { name: String, rows: i64, runs: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for LoadError {
    fn from(cause: sqlx::Error) -> Self {
        Self::Store(StoreError::Sql(cause))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attempt_outcome_reads_back_as_itself_and_nothing_else_reads() {
        for outcome in AttemptOutcome::ALL {
            assert_eq!(AttemptOutcome::parse(outcome.as_str()), Ok(outcome));
        }
        for raw in ["", "Created", "not-created", "sent"] {
            assert!(AttemptOutcome::parse(raw).is_err(), "{raw:?}");
        }
    }
}
