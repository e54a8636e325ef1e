//! Live counters of a run, fed by the dial tasks, read by the progress line and the summary,
//! and passed on to the process's metrics once the run knows its campaign and account.

use super::breaker::Outage;
use crate::metrics::CampaignMetrics;
use crate::store::Outcome;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

#[derive(Debug)]
pub struct Progress {
    pub started: Instant,
    created: AtomicU64,
    failed: AtomicU64,
    /// Create requests answered (created, refused, retried or unknown): what the CPS paces.
    requests: AtomicU64,
    /// (seconds since start, queue_time ms if created) of recent answers, for the rate and p95.
    recent: Mutex<Vec<(f64, Option<i64>)>>,
    /// The pacer's rate while adaptive pacing holds it below the CPS (f64 bits; 0 = not).
    pacing_rate: AtomicU64,
    /// Create requests allowed in flight while Twilio's 20429s hold it down (0 = not).
    in_flight_cap: AtomicU64,
    /// Seconds since start of the first and the last answer.
    span: Mutex<Option<(f64, f64)>>,
    /// Create requests sent and not answered yet.
    in_flight: AtomicU64,
    /// Rows this run left in doubt, and when each is checked next (the store's clock, ms).
    doubts: Mutex<HashMap<i64, i64>>,
    /// Rows whose last answer was "try again later", until an answer settles them.
    retrying: Mutex<HashSet<i64>>,
    /// The Twilio outage under way, if any.
    outage: Mutex<Option<Outage>>,
    metrics: OnceLock<CampaignMetrics>,
}

/// What the progress line shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub created: u64,
    pub failed: u64,
    /// Rows waiting now for another try (not every retry so far: those that came through are
    /// created or failed).
    pub retrying: u64,
    /// Create requests per second over the last few seconds (what the CPS limits).
    pub current_cps: f64,
    pub queue_time_p95_ms: Option<i64>,
    /// The rate adaptive pacing runs at, while below the CPS because Twilio queued calls.
    pub pacing_rate: Option<f64>,
    /// The limit on creates in flight, while below the maximum because Twilio answered 20429.
    pub in_flight_cap: Option<u64>,
    /// Whether queue_time grew over the window (Twilio queues more and more: we are faster
    /// than the account), not merely high.
    pub queue_growing: bool,
    /// Rows in doubt, waiting for a check with Twilio before any re-dial…
    pub in_doubt: u64,
    /// …and when the next of them is checked (the store's clock, unix ms).
    pub next_check_ms: Option<i64>,
    /// While Twilio cannot be reached: since when, why, and when it is tried again.
    pub outage: Option<Outage>,
}

/// The window the current rate and queue_time p95 are measured over.
const WINDOW_SECS: f64 = 5.0;

impl Default for Progress {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            created: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            recent: Mutex::new(Vec::new()),
            span: Mutex::new(None),
            pacing_rate: AtomicU64::new(0),
            in_flight_cap: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            doubts: Mutex::new(HashMap::new()),
            retrying: Mutex::new(HashSet::new()),
            outage: Mutex::new(None),
            metrics: OnceLock::new(),
        }
    }
}

/// A create request on its way: counted in flight until dropped.
pub struct Sending<'a>(&'a Progress);

impl Drop for Sending<'_> {
    fn drop(&mut self) {
        let left = self.0.in_flight.fetch_sub(1, Ordering::Relaxed) - 1;
        if let Some(metrics) = self.0.metrics.get() {
            metrics.in_flight(left);
        }
    }
}

impl Progress {
    /// From now on every count goes to `metrics` too (the first call wins).
    pub fn report_to(&self, metrics: CampaignMetrics) {
        let _ = self.metrics.set(metrics);
    }

    /// A create request leaves; it is in flight until the returned guard is dropped.
    pub fn sending(&self) -> Sending<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(metrics) = self.metrics.get() {
            metrics.in_flight(now);
        }
        Sending(self)
    }

    /// The answer to `row`'s create request: the row waits for another try while it was
    /// told to try again later, and no longer once an answer settles it.
    pub fn record(&self, row_id: i64, outcome: &Outcome) {
        let mut retrying = self.retrying.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Outcome::Retry { .. } => retrying.insert(row_id),
            _ => retrying.remove(&row_id),
        };
        drop(retrying);
        if let Some(metrics) = self.metrics.get() {
            metrics.answered(outcome);
        }
        let queue_time_ms = match outcome {
            Outcome::Created { queue_time_ms, .. } => {
                self.created.fetch_add(1, Ordering::Relaxed);
                *queue_time_ms
            }
            Outcome::Failed { .. } => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                None
            }
            Outcome::Retry { .. } | Outcome::Unknown { .. } => None,
        };
        self.answered(queue_time_ms);
    }

    /// A call found at Twilio after an unknown outcome: created, by no new request.
    pub fn found_created(&self) {
        if let Some(metrics) = self.metrics.get() {
            metrics.found_created();
        }
        self.created.fetch_add(1, Ordering::Relaxed);
    }

    fn answered(&self, queue_time_ms: Option<i64>) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let now = self.started.elapsed().as_secs_f64();
        let mut span = self.span.lock().unwrap_or_else(|e| e.into_inner());
        *span = Some(span.map_or((now, now), |(first, _)| (first, now)));
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.retain(|(t, _)| now - t <= WINDOW_SECS);
        recent.push((now, queue_time_ms));
    }

    /// A row is in doubt until `next_check_ms` (`None`: settled, or left for the next run).
    pub fn in_doubt(&self, row_id: i64, next_check_ms: Option<i64>) {
        let mut doubts = self.doubts.lock().unwrap_or_else(|e| e.into_inner());
        match next_check_ms {
            Some(at) => doubts.insert(row_id, at),
            None => doubts.remove(&row_id),
        };
    }

    /// Whether a row this run left in doubt is due for its check at `now_ms` (the store's
    /// clock), leaving out those in `checking`.
    pub fn doubt_due(&self, now_ms: i64, checking: &HashSet<i64>) -> bool {
        let doubts = self.doubts.lock().unwrap_or_else(|e| e.into_inner());
        doubts
            .iter()
            .any(|(row, at)| *at <= now_ms && !checking.contains(row))
    }

    /// What adaptive pacing holds down now: the call rate below the CPS, the creates in
    /// flight below the maximum (`None`: not held).
    pub fn set_held(&self, rate: Option<f64>, in_flight_cap: Option<usize>) {
        let rate = rate.filter(|r| *r > 0.0);
        if let Some(metrics) = self.metrics.get() {
            metrics.pacing_rate(rate);
        }
        let rate = rate.unwrap_or(0.0);
        self.pacing_rate.store(rate.to_bits(), Ordering::Relaxed);
        let cap = in_flight_cap.map_or(0, |c| c as u64);
        self.in_flight_cap.store(cap, Ordering::Relaxed);
    }

    /// The Twilio outage under way (`None`: Twilio answers).
    pub fn set_outage(&self, outage: Option<Outage>) {
        if let Some(metrics) = self.metrics.get() {
            metrics.twilio_reachable(outage.is_none());
        }
        *self.outage.lock().unwrap_or_else(|e| e.into_inner()) = outage;
    }

    /// Create requests answered in this run.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Create requests per second from the first answer of this run to the last (the rate
    /// the CPS limits: refused and retried requests take their slot too); None under two.
    pub fn request_rate(&self) -> Option<f64> {
        let requests = self.requests();
        let (first, last) = (*self.span.lock().unwrap_or_else(|e| e.into_inner()))?;
        (requests >= 2 && last > first).then(|| (requests - 1) as f64 / (last - first))
    }

    pub fn snapshot(&self) -> Snapshot {
        let now = self.started.elapsed().as_secs_f64();
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.retain(|(t, _)| now - t <= WINDOW_SECS);
        let window = WINDOW_SECS.min(now).max(0.001);
        let in_order: Vec<i64> = recent.iter().filter_map(|(_, q)| *q).collect();
        let queue_growing = grew(&in_order);
        let mut queue = in_order;
        queue.sort_unstable();
        let doubts = self.doubts.lock().unwrap_or_else(|e| e.into_inner());
        Snapshot {
            created: self.created.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            retrying: self
                .retrying
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .len() as u64,
            current_cps: recent.len() as f64 / window,
            queue_time_p95_ms: percentile(&queue, 95.0),
            pacing_rate: Some(f64::from_bits(self.pacing_rate.load(Ordering::Relaxed)))
                .filter(|r| *r > 0.0),
            in_flight_cap: Some(self.in_flight_cap.load(Ordering::Relaxed)).filter(|c| *c > 0),
            queue_growing,
            in_doubt: doubts.len() as u64,
            next_check_ms: doubts.values().min().copied(),
            outage: self
                .outage
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}

/// Whether queue_times, in the order answered, grew: the later half's mean is clearly above
/// the earlier half's (a steady backlog, or one queued call, is not growth).
fn grew(queue_times: &[i64]) -> bool {
    const CLEARLY_MS: f64 = 100.0;
    if queue_times.len() < 4 {
        return false;
    }
    let mean = |part: &[i64]| part.iter().sum::<i64>() as f64 / part.len() as f64;
    let (earlier, later) = queue_times.split_at(queue_times.len() / 2);
    mean(later) > mean(earlier) + CLEARLY_MS
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 95.0), Some(95));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&[], 95.0), None);
    }

    #[test]
    fn queue_time_grows_only_when_later_answers_waited_clearly_longer() {
        assert!(grew(&[100, 400, 900, 1500, 2200]));
        assert!(!grew(&[2000, 2000, 2100, 1900, 2000]), "high but steady");
        assert!(!grew(&[3000, 2000, 1000, 0]), "draining");
        assert!(!grew(&[0, 900]), "too few to tell");
    }

    #[test]
    fn a_row_in_doubt_is_due_once_its_check_time_comes_unless_it_is_being_checked() {
        let progress = Progress::default();
        progress.in_doubt(1, Some(5_000));
        let none = HashSet::new();
        assert!(!progress.doubt_due(4_999, &none));
        assert!(progress.doubt_due(5_000, &none));
        assert!(
            !progress.doubt_due(5_000, &HashSet::from([1])),
            "being checked"
        );
        progress.in_doubt(1, None);
        assert!(!progress.doubt_due(9_000, &none), "settled");
    }

    #[test]
    fn rows_in_doubt_are_counted_until_settled_with_their_next_check() {
        let progress = Progress::default();
        progress.in_doubt(1, Some(5_000));
        progress.in_doubt(2, Some(3_000));
        progress.in_doubt(1, Some(9_000));
        assert_eq!(
            (
                progress.snapshot().in_doubt,
                progress.snapshot().next_check_ms
            ),
            (2, Some(3_000))
        );
        progress.in_doubt(2, None);
        assert_eq!(progress.snapshot().next_check_ms, Some(9_000));
        progress.in_doubt(1, None);
        assert_eq!(progress.snapshot().in_doubt, 0);
    }

    #[test]
    fn rows_are_counted_as_retrying_while_their_last_answer_says_try_again() {
        let progress = Progress::default();
        let retry = Outcome::Retry {
            at: 0,
            counts: true,
            http_status: Some(503),
            code: None,
            message: "busy".into(),
        };
        progress.record(1, &retry);
        progress.record(2, &retry);
        progress.record(1, &retry);
        assert_eq!(progress.snapshot().retrying, 2);
        progress.record(
            2,
            &Outcome::Failed {
                http_status: Some(400),
                code: None,
                message: "no".into(),
            },
        );
        assert_eq!(
            progress.snapshot().retrying,
            1,
            "settled rows are not retrying"
        );
    }

    #[test]
    fn every_answered_request_counts_towards_the_rate_and_a_call_found_later_does_not() {
        let progress = Progress::default();
        progress.record(
            1,
            &Outcome::Created {
                call_sid: crate::domain::CallSid::random(),
                conference_sid: None,
                queue_time_ms: Some(40),
                status: 201,
            },
        );
        progress.record(
            2,
            &Outcome::Failed {
                http_status: Some(400),
                code: Some(21211),
                message: "Invalid 'To' Phone Number".into(),
            },
        );
        progress.found_created();

        let s = progress.snapshot();
        assert_eq!((s.created, s.failed, progress.requests()), (2, 1, 2));
        assert_eq!(
            s.queue_time_p95_ms,
            Some(40),
            "only creates have a queue_time"
        );
    }
}
