//! Twilio outages are the account's, not the row's. A connection refused (or DNS, TLS), or a
//! run of answers lost or 5xx, opens the breaker for the account at its API base: nothing is
//! sent while it is open, so rows spend no attempts on an outage. One request at a time goes
//! out as a probe, after a backoff (1 s doubling to 30 s); any answer from Twilio closes it.
//!
//! Shared by every run on the account in this process, like the pacer. Each host finds an
//! outage out for itself (after one refused connection, which costs no attempt).

use crate::twilio::ApiError;
use crate::twilio::error::OutageSignal;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;
use tokio::time::Instant;

/// Requests lost or answered 5xx in a row, with no answer between them, that open the breaker.
const FAILURES_TO_OPEN: u32 = 5;
const FIRST_PROBE_AFTER: Duration = Duration::from_secs(1);
const MAX_PROBE_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
pub struct Breaker {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    failures_in_a_row: u32,
    open: Option<Open>,
}

#[derive(Debug, Clone)]
struct Open {
    since: Instant,
    why: String,
    backoff: Duration,
    next_probe: Instant,
    /// A probe was let through and not answered yet: only its failure lengthens the backoff
    /// (requests already in flight when Twilio went away fail too, and say nothing new).
    probing: bool,
}

/// What the dial loop may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Closed: send as usual.
    Send,
    /// Open, and this caller's request is the probe (the next one waits a backoff).
    Probe,
    /// Open: send nothing before `until`.
    Wait { until: Instant },
}

/// An open breaker, as the progress line and the run's end show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outage {
    pub since: jiff::Timestamp,
    pub why: String,
    pub next_probe: jiff::Timestamp,
    /// How long it has been open (monotonic clock).
    pub lasted: Duration,
}

impl std::fmt::Display for Outage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Twilio unreachable since {} ({}); next probe {}",
            local_time(self.since),
            self.why,
            local_time(self.next_probe)
        )
    }
}

impl Outage {
    /// Why a run that stopped waiting for it stopped.
    pub fn outlasted(&self, limit: Duration) -> String {
        format!(
            "Twilio unreachable since {} ({}), longer than retry.outage_limit ({}s)",
            local_time(self.since),
            self.why,
            limit.as_secs()
        )
    }
}

/// `18:03:02` in the host's time zone, for display only.
fn local_time(at: jiff::Timestamp) -> String {
    at.to_zoned(jiff::tz::TimeZone::system())
        .strftime("%H:%M:%S")
        .to_string()
}

impl Breaker {
    /// The breaker of `account` at `api_base` in this process.
    pub fn for_account(account: &crate::domain::AccountSid, api_base: &url::Url) -> Arc<Self> {
        static BREAKERS: OnceLock<Mutex<HashMap<String, Weak<Breaker>>>> = OnceLock::new();
        let key = format!("{account} {api_base}");
        let mut breakers = BREAKERS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        breakers.retain(|_, breaker| breaker.strong_count() > 0);
        if let Some(breaker) = breakers.get(&key).and_then(Weak::upgrade) {
            return breaker;
        }
        let breaker = Arc::new(Self::default());
        breakers.insert(key, Arc::downgrade(&breaker));
        breaker
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a request may go out now; the one that may while open is the probe.
    pub fn pass(&self, now: Instant) -> Pass {
        let mut state = self.state();
        match &mut state.open {
            None => Pass::Send,
            Some(open) if now >= open.next_probe => {
                // Until the probe is answered, the next one waits as long again.
                open.next_probe = now + open.backoff;
                open.probing = true;
                Pass::Probe
            }
            Some(open) => Pass::Wait {
                until: open.next_probe,
            },
        }
    }

    /// Learns from the answer (or its absence) to any request to Twilio.
    pub fn observe<T>(&self, answer: &Result<T, ApiError>) {
        match answer {
            Ok(_) => self.answered(),
            Err(e) => match e.outage_signal() {
                Some(signal) => self.failed(signal, e, Instant::now()),
                None if e.http_status().is_some() => self.answered(),
                None => {}
            },
        }
    }

    /// Twilio answered: an outage is over.
    pub fn answered(&self) {
        let mut state = self.state();
        state.failures_in_a_row = 0;
        if let Some(open) = state.open.take() {
            tracing::info!(
                "Twilio answers again after {:.0} s unreachable; sending resumes",
                open.since.elapsed().as_secs_f64()
            );
        }
    }

    fn failed(&self, signal: OutageSignal, error: &ApiError, now: Instant) {
        let mut state = self.state();
        state.failures_in_a_row += 1;
        if let Some(open) = &mut state.open {
            if std::mem::take(&mut open.probing) {
                // A failed probe: wait twice as long for the next one.
                open.backoff = (open.backoff * 2).min(MAX_PROBE_BACKOFF);
                open.next_probe = now + open.backoff;
                tracing::debug!("Twilio still unreachable ({error})");
            }
            return;
        }
        if signal != OutageSignal::Unreached && state.failures_in_a_row < FAILURES_TO_OPEN {
            return;
        }
        let open = Open {
            since: now,
            why: error.outage_words(),
            backoff: FIRST_PROBE_AFTER,
            next_probe: now + FIRST_PROBE_AFTER,
            probing: false,
        };
        let outage = view(&open, now);
        tracing::warn!(
            "{outage}: nothing is sent until it answers, and no row spends an attempt on it ({error})"
        );
        state.open = Some(open);
    }

    /// The outage under way, if any.
    pub fn outage(&self) -> Option<Outage> {
        let now = Instant::now();
        self.state().open.as_ref().map(|open| view(open, now))
    }
}

/// The open breaker as people read it: its instants placed on the wall clock only to be shown
/// (they decide nothing; the breaker itself runs on the monotonic clock).
fn view(open: &Open, now: Instant) -> Outage {
    let shown = jiff::Timestamp::now();
    let lasted = now.saturating_duration_since(open.since);
    let to_probe = open.next_probe.saturating_duration_since(now);
    Outage {
        since: shown.checked_sub(lasted).unwrap_or(shown),
        why: open.why.clone(),
        next_probe: shown.checked_add(to_probe).unwrap_or(shown),
        lasted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The signal is what the breaker acts on; the error only names the outage.
    fn lost() -> ApiError {
        ApiError::Timeout(Duration::from_secs(15))
    }

    fn server_error() -> ApiError {
        ApiError::Twilio {
            body: crate::twilio::ErrorBody::new(500, 20500, "Internal Server Error"),
            retry_after: None,
        }
    }

    #[test]
    fn a_refused_connection_opens_at_once_and_the_first_answer_closes() {
        let breaker = Breaker::default();
        let t0 = Instant::now();
        assert_eq!(breaker.pass(t0), Pass::Send);
        breaker.failed(OutageSignal::Unreached, &lost(), t0);
        assert_eq!(
            breaker.pass(t0),
            Pass::Wait {
                until: t0 + FIRST_PROBE_AFTER
            }
        );
        let t1 = t0 + FIRST_PROBE_AFTER;
        assert_eq!(breaker.pass(t1), Pass::Probe);
        assert!(
            matches!(breaker.pass(t1), Pass::Wait { .. }),
            "one probe at a time"
        );
        breaker.answered();
        assert_eq!(breaker.pass(t1), Pass::Send);
        assert!(breaker.outage().is_none());
    }

    #[test]
    fn failed_probes_back_off_doubling_up_to_the_cap() {
        let breaker = Breaker::default();
        let mut now = Instant::now();
        breaker.failed(OutageSignal::Unreached, &lost(), now);
        breaker.failed(OutageSignal::Unreached, &lost(), now);
        let mut waits = Vec::new();
        for _ in 0..7 {
            let Pass::Wait { until } = breaker.pass(now) else {
                panic!("open")
            };
            waits.push((until - now).as_secs());
            now = until;
            assert_eq!(breaker.pass(now), Pass::Probe);
            breaker.failed(OutageSignal::Unreached, &lost(), now);
        }
        assert_eq!(
            waits,
            [1, 2, 4, 8, 16, 30, 30],
            "requests that were in flight do not lengthen it"
        );
    }

    #[test]
    fn a_run_of_5xx_or_lost_answers_opens_but_a_single_one_does_not() {
        let breaker = Breaker::default();
        let now = Instant::now();
        breaker.failed(OutageSignal::ServerError, &server_error(), now);
        breaker.answered();
        for _ in 1..FAILURES_TO_OPEN {
            breaker.failed(OutageSignal::ServerError, &server_error(), now);
        }
        assert_eq!(breaker.pass(now), Pass::Send, "an answer broke the run");
        breaker.failed(OutageSignal::Lost, &lost(), now);
        assert!(matches!(breaker.pass(now), Pass::Wait { .. }));
        assert_eq!(breaker.outage().map(|o| o.why), Some("timeout".to_owned()));
    }
}
