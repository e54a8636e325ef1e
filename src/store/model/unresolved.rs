//! A row in doubt, as its check reads it (`store::unresolved` says how rows in doubt are settled).

use crate::domain::{CallSid, Endpoint, Label};
use crate::store::codec::StoredOverrides;
use crate::twilio::{ParamError, RowOverrides};

/// A row whose last attempt may or may not have created a call.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Unresolved {
    #[sqlx(rename = "id")]
    pub row_id: i64,
    #[sqlx(rename = "to_endpoint")]
    pub to: Endpoint,
    pub label: Label,
    /// The row's own values, or why they no longer read.
    #[sqlx(try_from = "StoredOverrides")]
    pub params: Result<RowOverrides, ParamError>,
    /// The number of the attempt in doubt.
    #[sqlx(rename = "attempts")]
    pub attempt: i64,
    /// When the attempt in doubt was started (unix ms).
    #[sqlx(rename = "started_at")]
    pub attempt_started_at: i64,
    /// When its answer was lost (unix ms); `None` when the run stopped mid-request.
    #[sqlx(rename = "finished_at")]
    pub attempt_finished_at: Option<i64>,
    /// The call a status callback named for this attempt, if one came.
    #[sqlx(rename = "call_sid")]
    pub callback_call_sid: Option<CallSid>,
    /// Attempts that may have reached Twilio and created nothing, before this one.
    pub failures: i64,
    /// Why the attempt in doubt was in doubt (a 5xx, a timeout), as recorded.
    #[sqlx(rename = "message")]
    pub attempt_message: Option<String>,
}
