//! The account's call log, read once for many rows: one List Calls request (a page holds up to
//! 1,000 calls) answers for every row in doubt at once, and for every created call whose end
//! is awaited, where a request per row would cost Twilio several requests per person on a bad
//! day. Times are placed on Twilio's clock, by how far it is from the caller's clock (the
//! store's) at the answer.

use super::client::{CallLogQuery, TwilioClient};
use super::error::ApiError;
use super::resource::Call;
use crate::domain::{CallSid, Endpoint};

/// How long before a row's attempt started, on Twilio's clock, a call in the log is still taken
/// as the attempt's: the distance between the store's clock and Twilio's is measured to about
/// a second (a `Date` header has whole seconds); the rest is margin.
pub const MATCH_MARGIN_MS: i64 = 30_000;

/// How much later than an attempt's lost answer a call the log shows must have been created
/// for the log to count as caught up past the attempt. Twilio's log lags, but a copy that
/// shows a call of a given instant shows the calls before it; the margin covers calls whose
/// creation was recorded a little out of order.
pub const CAUGHT_UP_MARGIN_MS: i64 = 10_000;

/// The widest disagreement between clocks that dialer is made for: how far back the log is
/// read when no answer has told Twilio's clock yet.
const MAX_SKEW_MS: i64 = 15 * 60_000;

/// What the call log showed at one answer.
pub struct CallLog {
    calls: Vec<Call>,
    /// Twilio's clock minus the store's, at the answer (`None`: Twilio sent no `Date`).
    twilio_ahead_ms: Option<i64>,
}

impl CallLog {
    /// Reads the calls (to `to` and from `from`, when given) created since `oldest_ms`, newest
    /// first; `oldest_ms` and every time asked of the log later are on the clock `now_ms`
    /// reads (the store's).
    pub async fn read(
        client: &TwilioClient,
        now_ms: impl Fn() -> i64,
        to: Option<&Endpoint>,
        from: Option<&str>,
        oldest_ms: i64,
    ) -> Result<Self, ApiError> {
        let twilio_ahead = || client.clock().now_ms().map(|t| t - now_ms());
        let back = match twilio_ahead() {
            Some(ahead) => ahead - MATCH_MARGIN_MS,
            None => -MAX_SKEW_MS,
        };
        let created_since = timestamp(oldest_ms + back);
        let calls = client
            .list_calls(&CallLogQuery {
                to,
                from,
                created_since,
            })
            .await?;
        Ok(Self {
            calls,
            // The answer just read has set Twilio's clock.
            twilio_ahead_ms: twilio_ahead(),
        })
    }

    /// The call to `to` (from `from`, when given) created since `started_ms`, if the log shows
    /// one.
    pub fn call_to(&self, to: &Endpoint, from: Option<&str>, started_ms: i64) -> Option<CallSid> {
        let since = timestamp(match self.twilio_ahead_ms {
            Some(ahead) => started_ms + ahead - MATCH_MARGIN_MS,
            None => started_ms - MAX_SKEW_MS,
        });
        self.calls
            .iter()
            .filter(|call| call.to.as_deref() == Some(to.as_str()))
            .filter(|call| from.is_none_or(|from| call.from.as_deref() == Some(from)))
            .find(|call| created(call).is_some_and(|at| at >= since))
            .and_then(|call| call.sid.clone())
    }

    /// Whether the log shows a call created at least [`CAUGHT_UP_MARGIN_MS`] after `at_ms`:
    /// then it has caught up past that instant, and a call created before it would show.
    pub fn caught_up_past(&self, at_ms: i64) -> bool {
        let Some(ahead) = self.twilio_ahead_ms else {
            return false;
        };
        let past = timestamp(at_ms + ahead + CAUGHT_UP_MARGIN_MS);
        self.calls
            .iter()
            .any(|call| created(call).is_some_and(|at| at >= past))
    }

    /// Every call read, newest first.
    pub fn calls(&self) -> &[Call] {
        &self.calls
    }
}

fn timestamp(ms: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

fn created(call: &Call) -> Option<jiff::Timestamp> {
    call.date_created.as_deref().and_then(parse_rfc2822)
}

/// Twilio's dates: "Fri, 18 Feb 2011 21:07:19 +0000".
pub fn parse_rfc2822(raw: &str) -> Option<jiff::Timestamp> {
    jiff::fmt::rfc2822::parse(raw).ok().map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log read when Twilio's clock was `ahead` ms ahead of the store's, showing calls to
    /// `+14155550100` created at each of `created` (unix seconds, Twilio's clock).
    fn log(ahead: i64, created: &[i64]) -> CallLog {
        let calls = created
            .iter()
            .map(|&second| Call {
                sid: Some(CallSid::random()),
                to: Some("+14155550100".into()),
                from: Some("+15017122661".into()),
                date_created: Some(
                    jiff::Timestamp::from_second(second)
                        .unwrap()
                        .to_zoned(jiff::tz::TimeZone::UTC)
                        .strftime("%a, %d %b %Y %H:%M:%S +0000")
                        .to_string(),
                ),
                ..Call::default()
            })
            .collect();
        CallLog {
            calls,
            twilio_ahead_ms: Some(ahead),
        }
    }

    #[test]
    fn a_call_is_the_attempts_when_created_after_its_start_on_twilios_clock() {
        let to = Endpoint::parse("+14155550100").unwrap();
        // Twilio's clock is ten minutes behind the store's.
        let log = log(-600_000, &[1_000_000]);
        let started_ms = (1_000_000 + 600 - 5) * 1000;
        assert!(log.call_to(&to, Some("+15017122661"), started_ms).is_some());
        assert!(
            log.call_to(&to, Some("+15017122662"), started_ms).is_none(),
            "another caller"
        );
        let long_after = (1_000_000 + 600 + 60) * 1000;
        assert!(
            log.call_to(&to, None, long_after).is_none(),
            "an older call"
        );
    }

    #[test]
    fn the_log_is_caught_up_past_an_instant_only_with_a_call_well_after_it() {
        let log = log(0, &[1_000_000]);
        assert!(log.caught_up_past((1_000_000 - 11) * 1000));
        assert!(
            !log.caught_up_past((1_000_000 - 9) * 1000),
            "within the margin"
        );
        let unknown_clock = CallLog {
            twilio_ahead_ms: None,
            ..log
        };
        assert!(!unknown_clock.caught_up_past(0), "no clock, no proof");
    }
}
