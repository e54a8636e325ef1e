//! Twilio's clock, as its answers tell it: each carries a `Date` header (whole seconds, by the
//! clock that also writes a call's `date_created`). A host's wall clock may be minutes off
//! (a VM whose NTP is broken); what is matched against Twilio's records is placed on this clock
//! instead, and the host's offset from it is only measured, to be logged and graphed.

use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The latest reading of Twilio's clock, shared by every clone of a client.
#[derive(Debug, Clone, Default)]
pub struct TwilioClock(Arc<Mutex<Option<Reading>>>);

#[derive(Debug, Clone, Copy)]
struct Reading {
    /// When the answer arrived, on the monotonic clock.
    at: Instant,
    /// Twilio's time then (unix ms): the header's second, plus half a second since it is
    /// truncated.
    twilio_ms: i64,
    /// This host's wall clock minus Twilio's, at that answer.
    host_ahead_ms: i64,
}

/// A host clock this far off Twilio's is worth a warning (dialer does not rely on it, but
/// cron, the logs and every other program on the host do).
const WORTH_A_WARNING_MS: i64 = 30_000;

impl TwilioClock {
    /// Reads an answer's `Date` header ("Fri, 04 Dec 2026 20:23:08 GMT").
    pub fn observe(&self, date: &str) {
        let Ok(twilio) = jiff::fmt::rfc2822::parse(date) else {
            return;
        };
        let twilio_ms = twilio.timestamp().as_millisecond() + 500;
        // The host's wall clock is read here only to measure how far off it is.
        let host_ahead_ms = jiff::Timestamp::now().as_millisecond() - twilio_ms;
        let reading = Reading {
            at: Instant::now(),
            twilio_ms,
            host_ahead_ms,
        };
        let before = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(reading);
        let was_off = before.is_some_and(|b| b.host_ahead_ms.abs() > WORTH_A_WARNING_MS);
        if host_ahead_ms.abs() > WORTH_A_WARNING_MS && !was_off {
            tracing::warn!(
                offset_secs = host_ahead_ms / 1000,
                "this host's clock is {} s {} Twilio's: dialer goes by Twilio's and the database's clocks, but check the host's time sync (NTP)",
                host_ahead_ms.abs() / 1000,
                if host_ahead_ms > 0 {
                    "ahead of"
                } else {
                    "behind"
                }
            );
        }
    }

    /// Now on Twilio's clock (unix ms), once any answer has told it.
    pub fn now_ms(&self) -> Option<i64> {
        let reading = (*self.0.lock().unwrap_or_else(|e| e.into_inner()))?;
        let elapsed = i64::try_from(reading.at.elapsed().as_millis()).unwrap_or(i64::MAX);
        Some(reading.twilio_ms.saturating_add(elapsed))
    }

    /// This host's wall clock minus Twilio's (ms), once any answer has told it.
    pub fn host_ahead_ms(&self) -> Option<i64> {
        let reading = (*self.0.lock().unwrap_or_else(|e| e.into_inner()))?;
        Some(reading.host_ahead_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http_date_sets_the_clock_to_the_middle_of_its_second() {
        let clock = TwilioClock::default();
        assert_eq!(clock.now_ms(), None, "nothing known before an answer");

        clock.observe("Fri, 04 Dec 2026 20:23:08 GMT");

        let expected = jiff::Timestamp::from_second(1_796_415_788)
            .unwrap()
            .as_millisecond()
            + 500;
        let now = clock.now_ms().unwrap();
        assert!(
            (expected..expected + 1_000).contains(&now),
            "{now} vs {expected}"
        );
        assert!(clock.host_ahead_ms().is_some());
    }

    #[test]
    fn a_date_that_does_not_read_changes_nothing() {
        let clock = TwilioClock::default();
        clock.observe("Fri, 04 Dec 2026 20:23:08 GMT");
        let before = clock.host_ahead_ms();
        clock.observe("yesterday");
        assert_eq!(clock.host_ahead_ms(), before);
    }
}
