//! What a create makes: the call record, with its callee's outcome and its answering machine
//! drawn from the configured shares, and its status callback plan.

use super::config::SandboxConfig;
use super::timeline::{Outcome, Timeline};
use crate::domain::{CallSid, ConferenceSid, Label};
use crate::twilio::params::CreateParticipant;
use crate::twilio::values::{CallEvent, HttpMethod, WireWord};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Notify;

/// A call in the log, and its participant while the call is active.
pub(crate) struct CallRecord {
    pub sid: CallSid,
    pub conference: ConferenceSid,
    pub from: String,
    pub to: String,
    pub label: Option<Label>,
    pub timeline: Timeline,
    pub queue_time_ms: u64,
    pub muted: bool,
    pub hold: bool,
    pub coaching: bool,
    pub call_sid_to_coach: Option<CallSid>,
    pub end_conference_on_exit: bool,
    pub start_conference_on_enter: bool,
    /// `human` or `machine_start`, decided at create when MachineDetection is set.
    pub answered_by: Option<&'static str>,
    pub updated: Instant,
    pub callback: Option<CallbackPlan>,
}

/// Where and what to report for a call with a StatusCallback.
#[derive(Clone)]
pub(crate) struct CallbackPlan {
    pub url: String,
    pub method: HttpMethod,
    /// In lifecycle order.
    pub events: Vec<CallEvent>,
    /// Woken when the call's timeline changes (hang-up).
    pub wake: Arc<Notify>,
}

/// The first choice whose cumulative share exceeds `draw` (a uniform value in 0..1).
pub(crate) fn choose<T: Copy>(draw: f64, shares: &[(f64, T)]) -> Option<T> {
    let mut upto = 0.0;
    shares
        .iter()
        .find(|(share, _)| {
            upto += share;
            draw < upto
        })
        .map(|(_, choice)| *choice)
}

/// The random draws a new call is decided by, each from 0 to 1.
pub(super) struct Draws {
    pub outcome: f64,
    pub machine: f64,
}

impl CallRecord {
    /// The call a create places: its outcome and answerer drawn, its callbacks planned.
    pub(super) fn new(
        sid: CallSid,
        draws: Draws,
        conference: ConferenceSid,
        request: &CreateParticipant,
        config: &SandboxConfig,
        now: Instant,
        slot: Instant,
    ) -> Self {
        let options = request.options();
        let outcome_draw = draws.outcome;
        let outcome = choose(
            outcome_draw,
            &[
                (config.busy, Outcome::Busy),
                (config.no_answer, Outcome::NoAnswer),
                (config.failed, Outcome::Failed),
            ],
        )
        .unwrap_or(Outcome::Completed);
        let machine_draw = draws.machine;
        let answered_by = options.machine_detection.map(|_| {
            if machine_draw < config.machine {
                "machine_start"
            } else {
                "human"
            }
        });
        let callback = options.status_callback.as_ref().map(|url| CallbackPlan {
            url: url.as_str().to_owned(),
            method: options.status_callback_method.unwrap_or(HttpMethod::Post),
            events: match &options.status_callback_event {
                Some(list) => CallEvent::ALL
                    .iter()
                    .filter(|(_, word)| list.words().any(|w| w == *word))
                    .map(|(event, _)| *event)
                    .collect(),
                // Twilio's default when StatusCallback is set without events.
                None => vec![CallEvent::Completed],
            },
            wake: Arc::new(Notify::new()),
        });
        Self {
            sid,
            conference,
            from: request.from().to_string(),
            to: request.to().to_string(),
            label: options.label.clone(),
            timeline: Timeline::new(now, slot, outcome, config.ring(), config.talk()),
            queue_time_ms: (slot - now).as_millis() as u64,
            muted: options.muted.unwrap_or(false),
            hold: false,
            coaching: options.coaching.unwrap_or(false),
            call_sid_to_coach: options.call_sid_to_coach.clone(),
            end_conference_on_exit: options.end_conference_on_exit.unwrap_or(false),
            start_conference_on_enter: options.start_conference_on_enter.unwrap_or(true),
            answered_by,
            updated: now,
            callback,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_follow_cumulative_shares() {
        let shares = [(0.2, 'a'), (0.3, 'b')];
        assert_eq!(choose(0.1, &shares), Some('a'));
        assert_eq!(choose(0.4, &shares), Some('b'));
        assert_eq!(choose(0.6, &shares), None);
        assert_eq!(choose(0.0, &[(0.0, 'z')]), None);
    }
}
