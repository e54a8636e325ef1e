//! Adaptive pacing: each signal in Twilio's answers is answered by the knob that our own sending
//! controls. `queue_time` growing means we send faster than the account places calls (its real
//! CPS is lower than configured, or another system shares it): the call rate backs off to the
//! estimated real rate, drains the backlog, then climbs back toward the configured CPS; never
//! above it. 429/20429 is Twilio's limit on requests *in flight*, not on calls per second: it
//! is answered by fewer requests in flight (`in_flight`), never by a lower call rate.
//!
//! Signals are judged over windows of enough answers (at least `MIN_ANSWERS` sent on the
//! account over a tick or more, or `MAX_WINDOW` at a low rate), so that one answer does not
//! steer the rate.
//!
//! Both signals are the account's, whoever sends: `queue_time` is the account's queue at
//! Twilio, and the rate is the account's schedule's (see `Pacer::adapt`), never this process's
//! share of it, so several hosts back the account off to its real rate, not to a share of it.

use super::Pacer;
use super::in_flight::InFlightLimit;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the answers are looked at.
pub const TICK: Duration = Duration::from_millis(500);
/// A window is judged once the account was sent this many calls in it (queue_time is Twilio's
/// own measure of the account's backlog, so a few answers tell it, whichever host they came
/// to; the noisy signal, 20429, is judged over many more in `in_flight`)…
const MIN_ANSWERS: u32 = 3;
/// …or once it is this long, whatever it holds.
const MAX_WINDOW: Duration = Duration::from_secs(3);
/// queue_time below this is "no queue" (answers carry a little jitter from the network).
const CLEAR_MS: u64 = 100;
/// queue_time above this, and rising, means we are faster than the account.
const RISING_MS: u64 = 250;
/// A backlog this long is drained by running a little under the estimated rate.
const BACKLOG_MS: u64 = 1000;
const DECREASE: f64 = 0.75;
/// After the account's rate is lowered, the queue goes on growing for a while: slots already
/// taken at the old rate are still being sent. It is not judged again until this has passed.
const SETTLE: Duration = Duration::from_secs(1);
const DRAIN: f64 = 0.95;
/// While the queue is clear, the rate climbs by this share of the configured CPS per second
/// (from half the CPS back to all of it in 5 s)…
const CLIMB_SHARE_PER_SEC: f64 = 0.1;
/// Near the account's estimated rate it grows by this share of itself per second, at first…
const PROBE_GROWTH: f64 = 0.05;
/// …doubled for every second the queue stays clear, up to this: a rate that was low only for
/// a while is back at the CPS within seconds, and one that really is low is probed gently.
const MAX_GROWTH: f64 = 0.5;

/// What the answers of one window showed.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Signals {
    pub answers: u32,
    pub max_queue_ms: u64,
    /// How long the window lasted.
    pub span: Duration,
    /// The highest the account's rate was during the window: its calls were sent at it.
    pub rate: f64,
}

/// The controller's memory between windows.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct State {
    pub before: Signals,
    /// The account's real rate, as last estimated from a growing queue.
    pub estimate: Option<f64>,
    /// How long the queue has stayed clear.
    pub clear_for: Duration,
    /// How long since the account's rate was last lowered, here or by another host.
    pub since_lowered: Option<Duration>,
}

/// The next rate from the current one and this window's signals.
///
/// While the queue grows, Twilio places calls at `c` while we send at `r`, and each second
/// the queue_time grows by `(r - c) / c` seconds: so `c = r / (1 + slope)`. Backing off to that
/// estimate (within bounds) lands near the real rate at once, instead of a blind halving.
/// `r` is the account's rate, the schedule's: what this process's answers count is only its
/// share when other processes send on the account too. It is the rate the window's calls were
/// sent at, not the rate now, which another host may already have lowered for the same queue
/// (estimating from that one would back the account off twice).
pub fn next_rate(rate: f64, ceiling: f64, now: Signals, state: &mut State) -> f64 {
    let span = now.span.as_secs_f64().max(TICK.as_secs_f64());
    let slope = (now.max_queue_ms as f64 - state.before.max_queue_ms as f64) / 1000.0 / span;
    let clear = now.answers > 0 && now.max_queue_ms < CLEAR_MS;
    let clear_for = std::mem::take(&mut state.clear_for);
    let lowered_meanwhile = rate < now.rate * 0.999;
    state.since_lowered = match state.since_lowered {
        _ if lowered_meanwhile => Some(Duration::ZERO),
        since => since.map(|d| d + Duration::from_secs_f64(span)),
    };
    let settled = state.since_lowered.is_none_or(|d| d >= SETTLE);
    let next = if slope > 0.0 && now.max_queue_ms > RISING_MS && settled {
        let estimate = now.rate.max(rate) / (1.0 + slope);
        state.estimate = Some(estimate);
        state.since_lowered = Some(Duration::ZERO);
        estimate.clamp(rate * 0.5, rate * DECREASE.max(DRAIN))
    } else if now.max_queue_ms > BACKLOG_MS && settled {
        state.since_lowered = Some(Duration::ZERO);
        rate * DRAIN
    } else if clear {
        // Climb fast up to the last estimate, then probe: gently, faster each clear second.
        state.clear_for = clear_for + Duration::from_secs_f64(span);
        let near = state.estimate.is_some_and(|e| rate >= e * 0.95);
        let per_sec = if near {
            let growth = PROBE_GROWTH * 2f64.powf(clear_for.as_secs_f64());
            rate * growth.min(MAX_GROWTH)
        } else {
            CLIMB_SHARE_PER_SEC * ceiling
        };
        rate + per_sec * span
    } else {
        rate
    };
    state.before = now;
    next.clamp(1.0, ceiling)
}

/// What adaptive pacing holds below the configuration now, for the progress line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Held {
    /// The call rate, when below the configured CPS (Twilio queued calls).
    pub rate: Option<f64>,
    /// Creates in flight, when below `max_in_flight` (Twilio answered 20429).
    pub in_flight_cap: Option<usize>,
}

/// What this window holds so far.
#[derive(Debug)]
struct Window {
    signals: Signals,
    started: tokio::time::Instant,
}

impl Window {
    /// A window starting now, at the account's `rate`.
    fn new(rate: f64) -> Self {
        Self {
            signals: Signals {
                rate,
                ..Signals::default()
            },
            started: tokio::time::Instant::now(),
        }
    }
}

/// Collects queue signals from the dial tasks and adjusts the pacer; reports what the
/// in-flight limit holds down too.
#[derive(Debug)]
pub struct Adaptive {
    pacer: Arc<Pacer>,
    in_flight: Arc<InFlightLimit>,
    tick: Mutex<Signals>,
}

impl Adaptive {
    pub fn new(pacer: Arc<Pacer>, in_flight: Arc<InFlightLimit>) -> Arc<Self> {
        Arc::new(Self {
            pacer,
            in_flight,
            tick: Mutex::new(Signals::default()),
        })
    }

    /// A create answered with a call.
    pub fn created(&self, queue_time_ms: Option<u64>) {
        let mut t = self.tick.lock().unwrap_or_else(|e| e.into_inner());
        t.answers += 1;
        t.max_queue_ms = t.max_queue_ms.max(queue_time_ms.unwrap_or(0));
    }

    /// Runs until aborted; `on_change` sees what is held down after each window.
    pub fn spawn(
        self: &Arc<Self>,
        on_change: impl Fn(Held) + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut state = State::default();
            let mut ticks = tokio::time::interval(TICK);
            ticks.tick().await;
            let mut window = Window::new(this.pacer.rate());
            loop {
                ticks.tick().await;
                let now = std::mem::take(&mut *this.tick.lock().unwrap_or_else(|e| e.into_inner()));
                window.signals.answers += now.answers;
                window.signals.max_queue_ms = window.signals.max_queue_ms.max(now.max_queue_ms);
                window.signals.span = window.started.elapsed();
                window.signals.rate = window.signals.rate.max(this.pacer.rate());
                if window.signals.answers == 0 {
                    // Nothing sent: nothing to judge, and an idle spell is no evidence.
                    window = Window::new(this.pacer.rate());
                    continue;
                }
                // This process may hold only a share of the account's answers: the account
                // sent about `rate × span` (with several hosts, waiting for this share to make
                // MIN_ANSWERS would judge the account H times less often).
                let sent = window.signals.rate * window.signals.span.as_secs_f64();
                if sent < f64::from(MIN_ANSWERS) && window.signals.span < MAX_WINDOW {
                    continue;
                }
                let ceiling = f64::from(this.pacer.ceiling().get().get());
                let rate = next_rate(this.pacer.rate(), ceiling, window.signals, &mut state);
                if (rate - this.pacer.rate()).abs() > f64::EPSILON {
                    tracing::debug!(
                        rate,
                        max_queue_ms = window.signals.max_queue_ms,
                        "adaptive pacing"
                    );
                    this.pacer.adapt(rate, window.signals.span).await;
                }
                let rate = this.pacer.rate();
                on_change(Held {
                    // The pacer rounds its interval up: 30 CPS reads 29.99999.
                    rate: (rate < ceiling - 0.05).then_some(rate),
                    in_flight_cap: this.in_flight.cap(),
                });
                window = Window::new(rate);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALF_SECOND: Duration = Duration::from_millis(500);

    fn signals(answers: u32, max_queue_ms: u64) -> Signals {
        Signals {
            answers,
            max_queue_ms,
            span: HALF_SECOND,
            // Sent at the rate of now.
            rate: 0.0,
        }
    }

    fn after(before: Signals) -> State {
        State {
            before,
            ..State::default()
        }
    }

    #[test]
    fn a_growing_queue_backs_off_to_the_estimated_real_rate() {
        // Sending 15/s (7.5 per half second) while the queue grows one second per second:
        // the account places 7.5/s.
        let mut state = after(signals(7, 1000));
        let rate = next_rate(15.0, 30.0, signals(7, 1500), &mut state);
        assert!((rate - 7.5).abs() < 0.6, "{rate}");
        assert!(state.estimate.is_some());
    }

    #[test]
    fn a_rate_another_host_lowered_meanwhile_is_not_lowered_again_for_the_same_queue() {
        // Sent at 20/s while the queue grew; another host has lowered the rate to 12 since.
        let sent_at_20 = Signals {
            rate: 20.0,
            ..signals(10, 1500)
        };
        let mut state = after(signals(10, 1000));
        assert_eq!(next_rate(12.0, 20.0, sent_at_20, &mut state), 12.0);
        // Once settled, a queue still growing is judged from the rate it was sent at.
        let sent_at_12 = Signals {
            rate: 12.0,
            ..signals(10, 2000)
        };
        next_rate(12.0, 20.0, sent_at_12, &mut state);
        let sent_at_12 = Signals {
            rate: 12.0,
            ..signals(10, 2500)
        };
        assert_eq!(next_rate(12.0, 20.0, sent_at_12, &mut state), 6.0);
    }

    #[test]
    fn a_queue_still_growing_just_after_a_back_off_holds_the_rate_until_it_settles() {
        let mut state = after(signals(7, 1000));
        let backed_off = next_rate(15.0, 30.0, signals(7, 1500), &mut state);
        assert!(backed_off < 15.0);
        // Slots taken at 15/s are still being sent: the queue grows a little more.
        assert_eq!(
            next_rate(backed_off, 30.0, signals(7, 1800), &mut state),
            backed_off
        );
        assert!(next_rate(backed_off, 30.0, signals(7, 2100), &mut state) < backed_off);
    }

    #[test]
    fn the_back_off_is_bounded_to_half_the_rate() {
        let mut state = after(signals(10, 300));
        assert_eq!(next_rate(20.0, 30.0, signals(10, 5000), &mut state), 10.0);
    }

    #[test]
    fn a_steady_backlog_drains_and_a_clear_queue_climbs_fast_to_the_cps() {
        assert_eq!(
            next_rate(10.0, 30.0, signals(5, 2000), &mut after(signals(5, 2000))),
            9.5
        );
        // 10% of 30 per second, for half a second.
        assert_eq!(
            next_rate(10.0, 30.0, signals(5, 0), &mut State::default()),
            11.5
        );
        assert_eq!(
            next_rate(10.0, 30.0, signals(5, 500), &mut after(signals(5, 600))),
            10.0,
            "a small falling queue holds"
        );
    }

    #[test]
    fn near_the_estimate_a_clear_queue_probes_gently_then_faster_each_clear_second() {
        let mut near = State {
            estimate: Some(10.0),
            ..State::default()
        };
        let first = next_rate(10.0, 30.0, signals(5, 0), &mut near) - 10.0;
        assert!(first > 0.0 && first < 0.3, "gently at first: {first}");
        for _ in 0..3 {
            next_rate(10.0, 30.0, signals(5, 0), &mut near);
        }
        let after_two_seconds = next_rate(10.0, 30.0, signals(5, 0), &mut near) - 10.0;
        assert!(
            after_two_seconds >= 4.0 * first,
            "{first} then {after_two_seconds}"
        );
        next_rate(10.0, 30.0, signals(5, 500), &mut near);
        let again = next_rate(10.0, 30.0, signals(5, 0), &mut near) - 10.0;
        assert_eq!(again, first, "a queue starts the probe over");
    }

    #[test]
    fn after_a_passing_slowdown_a_clear_queue_is_back_at_the_cps_within_five_seconds() {
        // The account placed half its 20 CPS for a while: the estimate is 10.
        let mut state = State {
            estimate: Some(10.0),
            ..State::default()
        };
        let mut rate = 9.5;
        for _ in 0..10 {
            rate = next_rate(rate, 20.0, signals(10, 0), &mut state);
        }
        assert_eq!(rate, 20.0);
    }

    #[test]
    fn from_half_the_cps_a_clear_queue_is_back_at_the_cps_within_five_seconds() {
        let mut state = State::default();
        let mut rate = 15.0;
        for _ in 0..10 {
            rate = next_rate(rate, 30.0, signals(10, 0), &mut state);
        }
        assert_eq!(rate, 30.0);
    }

    #[test]
    fn the_rate_stays_between_one_and_the_configured_cps() {
        assert_eq!(
            next_rate(29.9, 30.0, signals(5, 0), &mut State::default()),
            30.0
        );
        assert_eq!(
            next_rate(1.1, 30.0, signals(1, 900), &mut after(signals(1, 100))),
            1.0
        );
    }
}
