//! Adaptive pacing: when Twilio's answers show calls queuing (`queue_time` growing) or its
//! concurrency limit (20429) answers, the account's real rate is lower than configured, or
//! another system shares it. Back off multiplicatively, drain the backlog, then probe back up
//! additively toward the configured CPS; never above it.

use super::pacer::Pacer;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the rate is reconsidered.
pub const TICK: Duration = Duration::from_millis(500);
/// queue_time below this is "no queue" (answers carry a little jitter from the network).
const CLEAR_MS: u64 = 100;
/// queue_time above this, and rising, means we are faster than the account.
const RISING_MS: u64 = 250;
/// A backlog this long is drained by running a little under the estimated rate.
const BACKLOG_MS: u64 = 1000;
/// The share of 429/20429 answers in a tick that means the account's concurrency is saturated.
/// A stray one (another tool's burst, or Twilio's own noise) is retried without slowing down:
/// backing off on every single 429 makes the rate collapse under a small random share of them.
const SATURATED_SHARE: f64 = 0.25;
const DECREASE: f64 = 0.75;
const DRAIN: f64 = 0.95;
/// Calls per second added per tick while the queue is clear.
const INCREASE_PER_TICK: f64 = 0.25;

/// What the answers of one tick showed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Signals {
    pub answers: u32,
    pub max_queue_ms: u64,
    pub too_many_requests: u32,
}

/// The controller's memory between ticks.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct State {
    pub before: Signals,
    /// The account's real rate, as last estimated from a growing queue.
    pub estimate: Option<f64>,
}

/// The next rate from the current one and this tick's signals.
///
/// While the queue grows, Twilio places calls at `c` while we send at `r`, and each second
/// the queue_time grows by `(r - c) / c` seconds: so `c = r / (1 + slope)`. Backing off to that
/// estimate (within bounds) lands near the real rate at once, instead of a blind halving.
pub fn next_rate(rate: f64, ceiling: f64, now: Signals, state: &mut State) -> f64 {
    let tick = TICK.as_secs_f64();
    let slope = (now.max_queue_ms as f64 - state.before.max_queue_ms as f64) / 1000.0 / tick;
    let refused = f64::from(now.too_many_requests);
    let next = if refused > 0.0 && refused >= SATURATED_SHARE * (refused + f64::from(now.answers)) {
        rate * DECREASE
    } else if slope > 0.0 && now.max_queue_ms > RISING_MS {
        let sent = f64::from(now.answers) / tick;
        let estimate = sent / (1.0 + slope);
        state.estimate = Some(estimate);
        estimate.clamp(rate * 0.5, rate * DECREASE.max(DRAIN))
    } else if now.max_queue_ms > BACKLOG_MS {
        rate * DRAIN
    } else if now.answers > 0 && now.max_queue_ms < CLEAR_MS {
        // Climb fast up to the last estimate, then probe gently.
        let near = state.estimate.is_some_and(|e| rate >= e * 0.95);
        rate + if near {
            INCREASE_PER_TICK / 5.0
        } else {
            INCREASE_PER_TICK
        }
    } else {
        rate
    };
    state.before = now;
    next.clamp(1.0, ceiling)
}

/// Collects signals from the dial tasks and adjusts the pacer every tick.
#[derive(Debug)]
pub struct Adaptive {
    pacer: Arc<Pacer>,
    tick: Mutex<Signals>,
}

impl Adaptive {
    pub fn new(pacer: Arc<Pacer>) -> Arc<Self> {
        Arc::new(Self {
            pacer,
            tick: Mutex::new(Signals::default()),
        })
    }

    pub fn created(&self, queue_time_ms: Option<u64>) {
        let mut t = self.tick.lock().unwrap_or_else(|e| e.into_inner());
        t.answers += 1;
        t.max_queue_ms = t.max_queue_ms.max(queue_time_ms.unwrap_or(0));
    }

    pub fn too_many_requests(&self) {
        self.tick
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .too_many_requests += 1;
    }

    /// Runs until aborted; `on_rate` sees each new rate (for the progress line).
    pub fn spawn(
        self: &Arc<Self>,
        on_rate: impl Fn(f64) + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut state = State::default();
            let mut ticks = tokio::time::interval(TICK);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let now = std::mem::take(&mut *this.tick.lock().unwrap_or_else(|e| e.into_inner()));
                if now.answers == 0 && now.too_many_requests == 0 {
                    continue;
                }
                let ceiling = f64::from(this.pacer.ceiling().get().get());
                let rate = next_rate(this.pacer.rate(), ceiling, now, &mut state);
                if (rate - this.pacer.rate()).abs() > f64::EPSILON {
                    tracing::debug!(rate, max_queue_ms = now.max_queue_ms, "adaptive pacing");
                    this.pacer.set_rate(rate);
                }
                on_rate(this.pacer.rate());
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals(answers: u32, max_queue_ms: u64) -> Signals {
        Signals {
            answers,
            max_queue_ms,
            too_many_requests: 0,
        }
    }

    fn after(before: Signals) -> State {
        State {
            before,
            estimate: None,
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
    fn the_back_off_is_bounded_to_half_the_rate() {
        let mut state = after(signals(10, 300));
        assert_eq!(next_rate(20.0, 30.0, signals(10, 5000), &mut state), 10.0);
    }

    #[test]
    fn concurrency_refusals_back_off_even_without_a_queue() {
        let now = Signals {
            too_many_requests: 2,
            ..signals(5, 0)
        };
        assert_eq!(next_rate(20.0, 30.0, now, &mut State::default()), 15.0);
    }

    #[test]
    fn a_stray_refusal_among_many_answers_does_not_slow_down() {
        let now = Signals {
            too_many_requests: 1,
            ..signals(14, 0)
        };
        assert_eq!(next_rate(20.0, 30.0, now, &mut State::default()), 20.25);
    }

    #[test]
    fn a_steady_backlog_drains_and_a_clear_queue_probes_up() {
        assert_eq!(
            next_rate(10.0, 30.0, signals(5, 2000), &mut after(signals(5, 2000))),
            9.5
        );
        assert_eq!(
            next_rate(10.0, 30.0, signals(5, 0), &mut State::default()),
            10.25
        );
        assert_eq!(
            next_rate(10.0, 30.0, signals(5, 500), &mut after(signals(5, 600))),
            10.0,
            "a small falling queue holds"
        );
        let mut near = State {
            estimate: Some(10.0),
            ..State::default()
        };
        assert_eq!(
            next_rate(10.0, 30.0, signals(5, 0), &mut near),
            10.05,
            "gently near the estimate"
        );
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
