//! How many create requests may be in flight, adapted to Twilio's limit on concurrent requests
//! (429 / 20429: never processed, safe to resend). A share of refusals that means saturation,
//! in two windows running, cuts the limit below what was in flight; a clear window raises it by one, though not back to
//! the level that saturated for a while (`HOLD`). If the share does not fall after two cuts, the
//! refusals are not caused by our concurrency (another tool, or noise at Twilio): the limit goes
//! back to the maximum and cuts pause for a while, since slowing down would cost the pace and
//! fix nothing.

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Answers judged together: enough that a steady 10% of random refusals almost never looks
/// like 20% (P ≈ 0.1% at 100 answers); about 3 s at 30 CPS.
const WINDOW: u32 = 100;
/// The share of refusals in a window that means too many requests in flight.
const SATURATED_SHARE: f64 = 0.2;
const CUT: f64 = 0.75;
/// After a cut, a share still at this fraction of the one that caused it did not fall.
const DID_NOT_FALL: f64 = 0.8;
/// How long cuts pause once refusals proved not to be ours, and how long the limit stays under
/// a level that saturated.
const NOT_OURS_PAUSE: Duration = Duration::from_secs(30);
const HOLD: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct InFlightLimit {
    max: usize,
    /// With `[pacing] adaptive = false` the limit stays at the maximum; refusals are still
    /// counted, for `gives_back`.
    adapts: bool,
    state: Mutex<LimitState>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct LimitState {
    limit: usize,
    answers: u32,
    refused: u32,
    /// The last window was saturated: one more, and the limit is cut.
    suspect: bool,
    /// The refusal share that caused the last cut, while its effect is being judged.
    cut_at_share: Option<f64>,
    /// A cut after which the share did not fall: one more such, and the refusals are not ours.
    cut_in_vain: bool,
    paused_until: Option<Instant>,
    /// The requests in flight that last saturated, and until when the limit stays under it.
    saturated: Option<(usize, Instant)>,
}

impl InFlightLimit {
    pub fn new(max: usize, adapts: bool) -> Self {
        let max = max.max(1);
        Self {
            max,
            adapts,
            state: Mutex::new(LimitState {
                limit: max,
                answers: 0,
                refused: 0,
                suspect: false,
                cut_at_share: None,
                cut_in_vain: false,
                paused_until: None,
                saturated: None,
            }),
        }
    }

    /// Create requests allowed in flight now.
    pub fn limit(&self) -> usize {
        self.lock().limit
    }

    /// The limit when it is below the maximum (for the progress line).
    pub fn cap(&self) -> Option<usize> {
        let limit = self.limit();
        (limit < self.max).then_some(limit)
    }

    /// One create answered (`refused` by the concurrency limit, or not) while `in_flight`
    /// requests were under way.
    pub fn answered(&self, refused: bool, in_flight: usize) {
        self.answered_at(refused, in_flight, Instant::now());
    }

    fn answered_at(&self, refused: bool, in_flight: usize, now: Instant) {
        let mut s = self.lock();
        s.answers += 1;
        s.refused += u32::from(refused);
        if s.answers >= WINDOW {
            if self.adapts {
                judge(&mut s, self.max, in_flight, now);
            } else {
                (s.answers, s.refused) = (0, 0);
            }
        }
    }

    /// Whether a refused create gives its pacing slot back: yes for a stray refusal, no while
    /// refusals look like saturation (giving slots back then would only send more requests
    /// into the limit, faster).
    pub fn gives_back(&self) -> bool {
        let s = self.lock();
        let share = f64::from(s.refused) / f64::from(s.answers.max(1));
        s.cut_at_share.is_none() && !s.suspect && (s.answers < 10 || share < SATURATED_SHARE)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimitState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn judge(s: &mut LimitState, max: usize, in_flight: usize, now: Instant) {
    let share = f64::from(s.refused) / f64::from(s.answers.max(1));
    (s.answers, s.refused) = (0, 0);
    if share < SATURATED_SHARE {
        s.cut_at_share = None;
        s.cut_in_vain = false;
        s.suspect = false;
        let held = s
            .saturated
            .is_some_and(|(level, until)| now < until && s.limit + 1 >= level);
        if !held {
            s.limit = (s.limit + 1).min(max);
        }
        return;
    }
    if s.paused_until.is_some_and(|until| now < until) {
        return;
    }
    if s.cut_at_share.is_none() && !s.suspect {
        // One saturated window of noise is not yet a pattern.
        s.suspect = true;
        return;
    }
    let in_vain = s
        .cut_at_share
        .is_some_and(|before| share >= before * DID_NOT_FALL);
    if in_vain && s.cut_in_vain {
        tracing::debug!(
            share,
            "20429s did not fall with fewer requests in flight, twice: not ours"
        );
        *s = LimitState {
            limit: max,
            cut_at_share: None,
            cut_in_vain: false,
            paused_until: Some(now + NOT_OURS_PAUSE),
            saturated: None,
            ..*s
        };
        return;
    }
    s.cut_in_vain = in_vain;
    let level = s.limit.min(in_flight.max(1));
    s.limit = ((level as f64 * CUT).floor() as usize).max(1);
    s.saturated = Some((level, now + HOLD));
    s.suspect = false;
    s.cut_at_share = Some(share);
    tracing::debug!(
        share,
        limit = s.limit,
        "Twilio answered 20429: fewer requests in flight"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// Feeds `windows` windows of answers, each refused with `share` at random; requests in
    /// flight are `in_flight(limit)`. Returns the limits after each window.
    /// A window of answers takes about this long at 30 CPS.
    const WINDOW_TIME: Duration = Duration::from_secs(3);

    fn run(share: f64, windows: usize, in_flight: impl Fn(usize) -> usize) -> Vec<usize> {
        let limit = InFlightLimit::new(32, true);
        let mut rng = StdRng::seed_from_u64(7);
        let start = Instant::now();
        (0..windows)
            .map(|w| {
                let now = start + WINDOW_TIME * w as u32;
                for _ in 0..WINDOW {
                    let sent = in_flight(limit.limit());
                    limit.answered_at(rng.random_bool(share), sent, now);
                }
                limit.limit()
            })
            .collect()
    }

    #[test]
    fn a_steady_ten_percent_of_random_refusals_never_lowers_the_limit() {
        let limits = run(0.10, 400, |limit| limit.min(9));
        assert!(limits.iter().all(|l| *l == 32), "{limits:?}");
    }

    #[test]
    fn a_real_concurrency_limit_lowers_requests_in_flight_until_the_refusals_stop() {
        // The account takes 6 requests at once; we would have 9 in flight: a request beyond
        // the 6th is refused.
        let limit = InFlightLimit::new(32, true);
        let mut limits = Vec::new();
        let mut refusals = Vec::new();
        let start = Instant::now();
        for w in 0..40 {
            let mut refused = 0;
            for i in 0..WINDOW {
                let in_flight = limit.limit().min(9);
                // Of each `in_flight` requests, those beyond 6 are refused.
                let over = i as usize % in_flight >= 6;
                refused += u32::from(over);
                limit.answered_at(over, in_flight, start + WINDOW_TIME * w);
            }
            limits.push(limit.limit());
            refusals.push(refused);
        }
        assert!(limits[..3].iter().any(|l| *l <= 6), "{limits:?}");
        assert!(limits[2..].iter().all(|l| *l <= 8), "{limits:?}");
        // Unadapted, 3 of each 9 are refused (33%). Adapted, it holds at 6 or 7 (at most 1 of
        // 7 refused) and probes 8 after each hold.
        let late: u32 = refusals[20..].iter().sum();
        assert!(
            f64::from(late) <= 0.18 * f64::from(20 * WINDOW),
            "refusals once adapted: {refusals:?} at {limits:?}"
        );
    }

    #[test]
    fn refusals_that_do_not_fall_with_fewer_in_flight_restore_the_limit() {
        // 40% refused whatever we do: confirmed in a second window, two cuts that change
        // nothing, then back to the maximum, and no more cuts for a while.
        let limits = run(0.40, 9, |limit| limit.min(9));
        assert_eq!(limits[0], 32, "one window is not yet a pattern: {limits:?}");
        assert!(limits[1] < limits[0] && limits[2] < limits[1], "{limits:?}");
        assert_eq!(&limits[3..], &[32; 6], "{limits:?}");
    }

    #[test]
    fn a_clear_window_raises_the_limit_by_one() {
        let mut s = LimitState {
            limit: 5,
            answers: WINDOW,
            refused: 0,
            suspect: false,
            cut_at_share: Some(0.5),
            cut_in_vain: false,
            paused_until: None,
            saturated: None,
        };
        judge(&mut s, 32, 5, Instant::now());
        assert_eq!((s.limit, s.cut_at_share), (6, None));
    }

    #[test]
    fn a_refused_create_gives_its_slot_back_only_while_refusals_are_stray() {
        let limit = InFlightLimit::new(32, false);
        for i in 0..50 {
            limit.answered(i % 20 == 0, 9);
        }
        assert!(limit.gives_back(), "5% refused");
        for _ in 0..30 {
            limit.answered(true, 9);
        }
        assert!(!limit.gives_back(), "40% refused: saturation, no slot back");
        assert_eq!(limit.limit(), 32, "not adapting: the limit stays");
    }
}
