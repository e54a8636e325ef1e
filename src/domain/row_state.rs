//! Where a row of a campaign stands, as the database's CHECK constraint allows it.
//!
//! pending → dialing → created | failed | unknown (in doubt, checked with Twilio) | pending
//! (retried); pending → suppressed (do-not-call) | canceled (the campaign was canceled).

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
pub enum RowState {
    Pending,
    Dialing,
    Created,
    Failed,
    Unknown,
    Suppressed,
    Canceled,
}
