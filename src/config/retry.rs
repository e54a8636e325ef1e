//! `[retry]`: the backoff between transient failures, and how long a lost answer or an outage
//! is waited out. Read by serde as the file writes it, with the defaults the README documents.

use super::fields;
use crate::domain::{
    deserialize_duration as text_duration, deserialize_some_duration as some_text_duration,
};
use serde::Deserialize;
use std::time::Duration;

/// Backoff between transient failures: the file's `[retry]`, read as it is written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    #[serde(deserialize_with = "text_duration")]
    pub initial: Duration,
    #[serde(deserialize_with = "text_duration")]
    pub max: Duration,
    #[serde(deserialize_with = "fields::multiplier")]
    pub multiplier: f32,
    pub jitter: bool,
    /// How long after an unknown outcome to ask Twilio whether the call exists.
    #[serde(deserialize_with = "text_duration")]
    pub reconcile_after: Duration,
    /// An attempt in doubt is judged never created only by a check made this long after its
    /// answer was lost: Twilio's call log is not read-your-writes.
    #[serde(deserialize_with = "text_duration")]
    pub call_log_grace: Duration,
    /// How long a run waits while Twilio cannot be reached before it stops (exit 4) with the
    /// rows left for the next run; `None`: it waits on (a worker).
    #[serde(deserialize_with = "some_text_duration")]
    pub outage_limit: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(5 * 60),
            multiplier: 2.0,
            jitter: true,
            reconcile_after: Duration::from_secs(5),
            // Twilio publishes no bound on how late its call log shows a new call; seconds
            // are common. Two minutes is a wide margin over that, and the README says what
            // it costs.
            call_log_grace: Duration::from_secs(2 * 60),
            outage_limit: Some(Duration::from_secs(3 * 60)),
        }
    }
}
