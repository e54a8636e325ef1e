//! Rows and attempts: the atomic claim, and every state change of a row after import.
//!
//! pending --claim--> dialing --created--> created
//!                       |------retry----> pending (later)
//!                       |------failed---> failed
//!                       '------unknown--> unknown --reconcile--> created | pending | unknown

use super::opt_outs::OptOutSource;
use crate::domain::named_enum;
use crate::domain::{
    CallSid, CalleeZones, CampaignStatus, ConferenceSid, Endpoint, Jurisdictions, Label, PersonId,
};
use crate::store::codec::StoredOverrides;
use crate::twilio::{ParamError, RowOverrides};

/// A row claimed for one create request; its attempt is already on disk.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    #[sqlx(rename = "id")]
    pub row_id: i64,
    #[sqlx(try_from = "i64")]
    pub line: u64,
    #[sqlx(rename = "to_endpoint")]
    pub to: Endpoint,
    pub label: Label,
    /// The row's own values, or why they no longer read (the row then fails, with that reason).
    #[sqlx(try_from = "StoredOverrides")]
    pub params: Result<RowOverrides, ParamError>,
    #[sqlx(rename = "attempts")]
    pub attempt: i64,
    /// Attempts that count towards max_attempts, since the row was imported or last requeued.
    pub failures: i64,
    /// The callee's own zones, read with the claim for the calling window; `None`: the
    /// campaign's zone.
    #[sqlx(rename = "timezone")]
    pub zones: Option<CalleeZones>,
    /// Whose calling rules bind the call (`None`: a number outside the US).
    pub jurisdictions: Option<Jurisdictions>,
    /// The person the number belongs to: caps count the calls to all their numbers.
    pub person: Option<PersonId>,
    /// The campaign's status when the row was claimed (pause, cancel), read in the claim
    /// itself so that a dialing run needs no read of its own for it.
    pub campaign_status: CampaignStatus,
    /// Whether the number opted out (and by what), read in the claim itself: an opt-out is
    /// honoured from the next claim on, by every run, at no statement of its own.
    pub opted_out: Option<OptOutSource>,
    /// When the attempt began, on the store's clock: its claim, until its request is sent
    /// (the sender sets it then, and `Store::record` keeps it with the outcome).
    pub started_at: i64,
    /// When this process's lease on the row runs out (PostgreSQL, where hosts share
    /// campaigns): a request that could not finish before it must not be sent. `None` on
    /// SQLite, where the campaign's lock is held for the whole run.
    #[sqlx(skip)]
    pub lease_deadline: Option<std::time::Instant>,
}

/// Pending rows that the same calling hours hold: one zone (`None`: the campaign's) and one
/// set of jurisdictions (`None`: outside the US).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::FromRow)]
pub struct RowGroup {
    #[sqlx(rename = "timezone")]
    pub zones: Option<CalleeZones>,
    pub jurisdictions: Option<Jurisdictions>,
}

/// A pending row as `dialer plan` weighs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingRow {
    pub id: i64,
    #[sqlx(try_from = "i64")]
    pub line: u64,
    #[sqlx(rename = "to_endpoint")]
    pub to: Endpoint,
    pub label: Label,
    #[sqlx(rename = "timezone")]
    pub zones: Option<CalleeZones>,
    pub jurisdictions: Option<Jurisdictions>,
    pub person: Option<PersonId>,
    pub attempts: i64,
    pub next_attempt_at: i64,
}

/// How a create request ended, as the row records it.
#[derive(Debug, Clone)]
pub enum Outcome {
    Created {
        call_sid: CallSid,
        conference_sid: Option<ConferenceSid>,
        queue_time_ms: Option<i64>,
        status: u16,
    },
    /// Not processed by Twilio: back to pending at `at`. `counts` says whether it counts
    /// towards max_attempts.
    Retry {
        at: i64,
        counts: bool,
        http_status: Option<u16>,
        code: Option<u32>,
        message: String,
    },
    Failed {
        http_status: Option<u16>,
        code: Option<u32>,
        message: String,
    },
    /// Maybe created: check with Twilio at `check_at` before any re-dial.
    Unknown {
        check_at: i64,
        http_status: Option<u16>,
        code: Option<u32>,
        message: String,
    },
}

impl Outcome {
    /// The outcome as its attempt records it (and metrics label it).
    pub fn kind(&self) -> AttemptOutcome {
        match self {
            Self::Created { .. } => AttemptOutcome::Created,
            Self::Retry { .. } => AttemptOutcome::Retry,
            Self::Failed { .. } => AttemptOutcome::Failed,
            Self::Unknown { .. } => AttemptOutcome::Unknown,
        }
    }

    /// Twilio's error code, when it gave one.
    pub fn code(&self) -> Option<u32> {
        match self {
            Self::Created { .. } => None,
            Self::Retry { code, .. } | Self::Failed { code, .. } | Self::Unknown { code, .. } => {
                *code
            }
        }
    }
}

named_enum! {
    /// How an attempt ended, as its record says.
    pub enum AttemptOutcome("an attempt outcome") {
        /// Written before the request left; never completed (the run died or is under way).
        Sending = "sending",
        Created = "created",
        Retry = "retry",
        Failed = "failed",
        Unknown = "unknown",
        /// Reconciled: Twilio had no such call.
        NotCreated = "not_created",
        /// Reconciled: Twilio had the call.
        Found = "found",
    }
}

/// An outcome as its attempt records it, the same for every backend; signed integers for
/// Twilio's unsigned statuses and codes, as both databases store them.
pub(in crate::store) struct Written<'a> {
    pub outcome: AttemptOutcome,
    pub http_status: Option<i64>,
    pub code: Option<i64>,
    pub message: Option<&'a str>,
    pub call_sid: Option<&'a crate::domain::CallSid>,
    pub queue_time_ms: Option<i64>,
}

impl<'a> Written<'a> {
    pub(in crate::store) fn of(outcome: &'a Outcome) -> Self {
        let (http_status, code, message) = match outcome {
            Outcome::Created {
                call_sid,
                queue_time_ms,
                status,
                ..
            } => {
                return Written {
                    outcome: outcome.kind(),
                    http_status: Some(i64::from(*status)),
                    code: None,
                    message: None,
                    call_sid: Some(call_sid),
                    queue_time_ms: *queue_time_ms,
                };
            }
            Outcome::Retry {
                http_status,
                code,
                message,
                ..
            }
            | Outcome::Failed {
                http_status,
                code,
                message,
            }
            | Outcome::Unknown {
                http_status,
                code,
                message,
                ..
            } => (http_status, code, message),
        };
        Written {
            outcome: outcome.kind(),
            http_status: http_status.map(i64::from),
            code: code.map(i64::from),
            message: Some(message),
            call_sid: None,
            queue_time_ms: None,
        }
    }
}
