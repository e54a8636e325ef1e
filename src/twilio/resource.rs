//! What Twilio answers: participants, calls, list pages and error bodies, as its JSON has them.

use crate::domain::{CallSid, ConferenceSid};
use serde::{Deserialize, Serialize};

/// A conference participant. `queue_time` is how long Twilio will hold the call before placing
/// it (milliseconds, sent as a string or null): above zero means we dial faster than the
/// account's CPS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    pub account_sid: Option<String>,
    pub call_sid: Option<CallSid>,
    pub label: Option<String>,
    pub call_sid_to_coach: Option<String>,
    pub coaching: Option<bool>,
    pub conference_sid: Option<ConferenceSid>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
    pub end_conference_on_exit: Option<bool>,
    pub muted: Option<bool>,
    pub hold: Option<bool>,
    pub start_conference_on_enter: Option<bool>,
    pub status: Option<String>,
    pub queue_time: Option<String>,
    pub uri: Option<String>,
}

impl Participant {
    pub fn queue_time_ms(&self) -> Option<u64> {
        self.queue_time
            .as_deref()
            .and_then(|q| q.trim().parse().ok())
    }
}

/// A call from the account's call log (for outcomes and to reconcile lost answers).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub sid: Option<CallSid>,
    pub account_sid: Option<String>,
    pub parent_call_sid: Option<String>,
    pub date_created: Option<String>,
    pub date_updated: Option<String>,
    pub to: Option<String>,
    pub from: Option<String>,
    pub status: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub duration: Option<String>,
    pub answered_by: Option<String>,
    pub queue_time: Option<String>,
    pub direction: Option<String>,
    pub uri: Option<String>,
}

/// Paging fields common to every Twilio list answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PageMeta {
    pub page: Option<u64>,
    pub page_size: Option<u64>,
    pub start: Option<u64>,
    pub end: Option<i64>,
    pub uri: Option<String>,
    pub first_page_uri: Option<String>,
    pub next_page_uri: Option<String>,
    pub previous_page_uri: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantPage {
    pub participants: Vec<Participant>,
    #[serde(flatten)]
    pub meta: PageMeta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallPage {
    pub calls: Vec<Call>,
    #[serde(flatten)]
    pub meta: PageMeta,
}

/// Twilio's error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: Option<u32>,
    pub message: String,
    pub more_info: Option<String>,
    pub status: u16,
}

impl ErrorBody {
    pub fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
        Self {
            code: Some(code),
            message: message.into(),
            more_info: Some(format!("https://www.twilio.com/docs/errors/{code}")),
            status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_time_is_a_string_of_milliseconds_or_null() {
        let p: Participant = serde_json::from_str(
            r#"{"call_sid":"CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","queue_time":"1000","status":"queued"}"#,
        )
        .unwrap();
        assert_eq!(p.queue_time_ms(), Some(1000));
        let p: Participant = serde_json::from_str(r#"{"queue_time":null}"#).unwrap();
        assert_eq!(p.queue_time_ms(), None);
    }
}
