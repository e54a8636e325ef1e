//! Time spent dialing, the one measure the report's rates are taken over: the spells in which
//! calls were created, idle time between them left out. A cron campaign that dials for ten
//! minutes a day over three days dialed for thirty minutes, not three days; the retries of a
//! few failing numbers after the last call do not stretch it.

use crate::domain::Cps;
use crate::store::AttemptSpan;

/// A pause this long without a create request ends a spell of dialing: longer than any wait
/// inside a run (a pacing slot, a retry's backoff of at most five minutes by default, a
/// check of calls in doubt), far shorter than the night between two days' runs.
pub const IDLE_GAP_MS: i64 = 10 * 60 * 1000;

/// Seconds from a spell's first request to its last, plus the slot the last one took at the
/// configured rate: `n` requests paced exactly at the CPS took `n / CPS` seconds.
pub fn spell_secs(span: AttemptSpan, cps: Cps) -> f64 {
    (span.last_ms - span.first_ms).max(0) as f64 / 1000.0 + 1.0 / f64::from(cps.get().get())
}

/// The seconds of every spell together; `None` before any request.
pub fn dialing_secs(spans: &[AttemptSpan], cps: Cps) -> Option<f64> {
    (!spans.is_empty()).then(|| spans.iter().map(|span| spell_secs(*span, cps)).sum())
}

/// Created calls per second of dialing; a single call (or no time at all) has no rate.
pub fn created_per_sec(created: u64, secs: Option<f64>) -> Option<f64> {
    secs.filter(|secs| created >= 2 && *secs > 0.0)
        .map(|secs| created as f64 / secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: i64 = 86_400_000;

    fn span(first_ms: i64, last_ms: i64) -> AttemptSpan {
        AttemptSpan { first_ms, last_ms }
    }

    #[test]
    fn requests_paced_at_the_cps_count_one_slot_each() {
        let cps = Cps::new(10).unwrap();
        // 100 requests, 100 ms apart.
        let secs = dialing_secs(&[span(0, 9_900)], cps);

        assert_eq!(secs, Some(10.0));
        assert_eq!(created_per_sec(100, secs), Some(10.0));
    }

    #[test]
    fn the_days_between_three_runs_are_not_dialing_time() {
        let cps = Cps::new(5).unwrap();
        let runs = [
            span(0, 19_800),
            span(DAY_MS, DAY_MS + 19_800),
            span(2 * DAY_MS, 2 * DAY_MS + 19_800),
        ];

        let secs = dialing_secs(&runs, cps);

        assert_eq!(secs, Some(60.0));
        assert_eq!(created_per_sec(300, secs), Some(5.0));
        assert_eq!(dialing_secs(&[], cps), None);
    }

    #[test]
    fn a_rate_needs_two_calls_and_some_time() {
        assert_eq!(created_per_sec(10, Some(4.0)), Some(2.5));
        assert_eq!(created_per_sec(1, Some(4.0)), None);
        assert_eq!(created_per_sec(10, Some(0.0)), None);
        assert_eq!(created_per_sec(10, None), None);
    }
}
