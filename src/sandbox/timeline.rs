//! A call's life computed from its timestamps instead of timers: where it is at any instant,
//! what Twilio shows for it then, and when each status callback falls due.
//!
//! queued (until its CPS slot) → connecting → ringing → connected (answered) → ended.
//! Busy, no-answer and failed calls end when ringing ends, without connecting.

use crate::twilio::values::CallEvent;
use std::time::{Duration, Instant};

/// How the callee's side ends the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Completed,
    Busy,
    NoAnswer,
    Failed,
}

impl Outcome {
    fn call_status(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Busy => "busy",
            Self::NoAnswer => "no-answer",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Queued,
    Connecting,
    Ringing,
    Connected,
    Ended,
}

/// The connecting phase is not configurable: it takes the first part of the ring time.
const CONNECTING: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeline {
    pub created: Instant,
    /// When the call is dialed: its CPS slot.
    pub slot: Instant,
    ringing: Instant,
    answered: Option<Instant>,
    scheduled_end: Instant,
    /// Set by Delete Participant.
    hung_up: Option<Instant>,
    outcome: Outcome,
}

impl Timeline {
    pub fn new(
        created: Instant,
        slot: Instant,
        outcome: Outcome,
        ring: Duration,
        talk: Duration,
    ) -> Self {
        let ring_end = slot + ring;
        let (answered, scheduled_end) = match outcome {
            Outcome::Completed => (Some(ring_end), ring_end + talk),
            _ => (None, ring_end),
        };
        let ringing = slot + CONNECTING.min(ring / 2);
        Self {
            created,
            slot,
            ringing,
            answered,
            scheduled_end,
            hung_up: None,
            outcome,
        }
    }

    pub fn hang_up(&mut self, at: Instant) {
        if at < self.end() {
            self.hung_up = Some(at);
        }
    }

    pub fn end(&self) -> Instant {
        self.hung_up
            .map_or(self.scheduled_end, |h| h.min(self.scheduled_end))
    }

    pub fn is_active(&self, at: Instant) -> bool {
        at < self.end()
    }

    pub fn phase(&self, at: Instant) -> Phase {
        if at >= self.end() {
            Phase::Ended
        } else if at <= self.slot {
            // Inclusive: a create answered at its own slot still reads "queued", as Twilio's does.
            Phase::Queued
        } else if at < self.ringing {
            Phase::Connecting
        } else if self.answered.is_none_or(|a| at < a) {
            Phase::Ringing
        } else {
            Phase::Connected
        }
    }

    /// Twilio's participant `status`; `None` once the participant has left.
    pub fn participant_status(&self, at: Instant) -> Option<&'static str> {
        match self.phase(at) {
            Phase::Queued => Some("queued"),
            Phase::Connecting => Some("connecting"),
            Phase::Ringing => Some("ringing"),
            Phase::Connected => Some("connected"),
            Phase::Ended => None,
        }
    }

    /// Twilio's call `status`.
    pub fn call_status(&self, at: Instant) -> &'static str {
        match self.phase(at) {
            Phase::Queued | Phase::Connecting => "queued",
            Phase::Ringing => "ringing",
            Phase::Connected => "in-progress",
            Phase::Ended => self.final_status(),
        }
    }

    /// A call hung up through the API ends `completed`, whatever the callee would have done.
    pub fn final_status(&self) -> &'static str {
        if self.hung_up.is_some() {
            "completed"
        } else {
            self.outcome.call_status()
        }
    }

    /// When the call was answered, if it was by `at`.
    pub fn answered_at(&self, at: Instant) -> Option<Instant> {
        self.answered.filter(|a| *a < self.end() && *a <= at)
    }

    pub fn start_time(&self, at: Instant) -> Option<Instant> {
        (self.slot <= at && self.slot < self.end()).then_some(self.slot)
    }

    pub fn end_time(&self, at: Instant) -> Option<Instant> {
        let end = self.end();
        (end <= at).then_some(end)
    }

    /// Whole seconds connected, once the call has ended.
    pub fn duration_secs(&self, at: Instant) -> Option<u64> {
        let end = self.end_time(at)?;
        let talked = self.answered_at(at).map_or(Duration::ZERO, |a| end - a);
        Some((talked.as_millis() as u64 + 500) / 1000)
    }

    /// The last change of phase at or before `at`.
    pub fn last_change(&self, at: Instant) -> Instant {
        [
            Some(self.created),
            Some(self.slot),
            Some(self.ringing),
            self.answered,
            Some(self.end()),
        ]
        .into_iter()
        .flatten()
        .filter(|t| *t <= at)
        .max()
        .unwrap_or(self.created)
    }

    /// When `event` happens, if it does.
    pub fn event_time(&self, event: CallEvent) -> Option<Instant> {
        let end = self.end();
        match event {
            CallEvent::Initiated => Some(self.slot).filter(|t| *t < end),
            CallEvent::Ringing => Some(self.ringing).filter(|t| *t < end),
            CallEvent::Answered => self.answered.filter(|t| *t < end),
            CallEvent::Completed => Some(end),
        }
    }

    /// The `CallStatus` a callback for `event` carries.
    pub fn event_status(&self, event: CallEvent) -> &'static str {
        match event {
            CallEvent::Initiated => "initiated",
            CallEvent::Ringing => "ringing",
            CallEvent::Answered => "in-progress",
            CallEvent::Completed => self.final_status(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn an_answered_call_walks_through_every_phase() {
        let t0 = Instant::now();
        let call = Timeline::new(t0, t0 + 1000 * MS, Outcome::Completed, 1000 * MS, 3000 * MS);
        let phases: Vec<Phase> = [0, 1000, 1100, 1500, 2500, 5000]
            .map(|ms| call.phase(t0 + ms * MS))
            .into();
        use Phase::*;
        assert_eq!(
            phases,
            [Queued, Queued, Connecting, Ringing, Connected, Ended]
        );
        assert_eq!(call.call_status(t0 + 5000 * MS), "completed");
        assert_eq!(call.duration_secs(t0 + 5000 * MS), Some(3));
    }

    #[test]
    fn a_busy_call_ends_after_ringing_and_a_hung_up_call_completes() {
        let t0 = Instant::now();
        let busy = Timeline::new(t0, t0, Outcome::Busy, 1000 * MS, 3000 * MS);
        assert_eq!(busy.call_status(t0 + 1000 * MS), "busy");
        assert_eq!(busy.duration_secs(t0 + 1000 * MS), Some(0));
        assert_eq!(busy.event_time(CallEvent::Answered), None);
        let mut queued =
            Timeline::new(t0, t0 + 5000 * MS, Outcome::Busy, 1000 * MS, Duration::ZERO);
        queued.hang_up(t0 + 10 * MS);
        assert_eq!(queued.call_status(t0 + 10 * MS), "completed");
        assert_eq!(queued.start_time(t0 + 6000 * MS), None);
        assert_eq!(queued.event_time(CallEvent::Initiated), None);
    }
}
