//! What the sandbox saw, for tests and benchmarks to assert on: requests by status, creates
//! per second and per `To`, queue times, and the faults it injected.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// A snapshot, served as JSON by `GET /sandbox/stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SandboxStats {
    /// API requests received (the stats endpoint itself is not counted).
    pub requests: u64,
    /// API requests by what they asked for (`create`, `participant`, `call log`, `call`,
    /// `other`), so a client's cost can be told apart.
    #[serde(default)]
    pub requests_by_kind: BTreeMap<String, u64>,
    /// Answers sent, by HTTP status. Dropped and still-hanging requests have none.
    pub responses_by_status: BTreeMap<u16, u64>,
    /// Participants created (including those whose answer was dropped or hangs).
    pub creates: u64,
    /// `[unix second, creates]`, in time order.
    pub creates_per_second: Vec<(i64, u64)>,
    pub queue_time_ms: QueueTimeSummary,
    /// Every create's `queue_time`, in creation order.
    pub queue_times_ms: Vec<u64>,
    /// When each create arrived, in ms since the sandbox started, in creation order.
    pub create_times_ms: Vec<u64>,
    /// Creates per `To`: any value above 1 means someone was called twice.
    pub creates_by_to: BTreeMap<String, u64>,
    pub max_in_flight: u64,
    pub too_many_requests: u64,
    pub server_errors: u64,
    /// Creates whose connection was closed without an answer.
    pub drops: u64,
    /// Creates whose answer was held back.
    pub hangs: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueTimeSummary {
    pub p50: u64,
    pub p95: u64,
    pub p99: u64,
    pub max: u64,
}

impl QueueTimeSummary {
    fn of(values: &[u64]) -> Self {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let at = |q: f64| match sorted.len() {
            0 => 0,
            n => sorted[((n as f64 * q).ceil() as usize).clamp(1, n) - 1],
        };
        Self {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: sorted.last().copied().unwrap_or(0),
        }
    }
}

/// The live counters behind the snapshots.
#[derive(Debug)]
pub(crate) struct StatsRecorder {
    started: Instant,
    counters: Mutex<Counters>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Default for StatsRecorder {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            counters: Mutex::default(),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    requests: u64,
    requests_by_kind: BTreeMap<String, u64>,
    responses_by_status: BTreeMap<u16, u64>,
    creates_per_second: BTreeMap<i64, u64>,
    queue_times_ms: Vec<u64>,
    create_times_ms: Vec<u64>,
    creates_by_to: BTreeMap<String, u64>,
    drops: u64,
    hangs: u64,
}

/// A request counted as in flight until dropped.
pub(crate) struct InFlight<'a>(&'a StatsRecorder);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl StatsRecorder {
    /// Counts a new request of `kind`; `None` when `limit` requests are already in flight.
    pub fn enter(&self, kind: &str, limit: usize) -> Option<InFlight<'_>> {
        {
            let mut counters = self.lock();
            counters.requests += 1;
            match counters.requests_by_kind.get_mut(kind) {
                Some(n) => *n += 1,
                None => {
                    counters.requests_by_kind.insert(kind.to_owned(), 1);
                }
            }
        }
        let now = self.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        let guard = InFlight(self);
        if now > limit {
            return None;
        }
        self.max_in_flight.fetch_max(now, Ordering::AcqRel);
        Some(guard)
    }

    pub fn response(&self, status: u16) {
        *self.lock().responses_by_status.entry(status).or_default() += 1;
    }

    pub fn create(&self, unix_second: i64, to: &str, queue_time_ms: u64) {
        let arrived_ms = self.started.elapsed().as_millis() as u64;
        let mut counters = self.lock();
        *counters.creates_per_second.entry(unix_second).or_default() += 1;
        counters.queue_times_ms.push(queue_time_ms);
        counters.create_times_ms.push(arrived_ms);
        match counters.creates_by_to.get_mut(to) {
            Some(count) => *count += 1,
            None => {
                counters.creates_by_to.insert(to.to_owned(), 1);
            }
        }
    }

    pub fn drop_answer(&self) {
        self.lock().drops += 1;
    }

    pub fn hang(&self) {
        self.lock().hangs += 1;
    }

    pub fn snapshot(&self) -> SandboxStats {
        let counters = self.lock();
        let count_of = |range: std::ops::RangeInclusive<u16>| {
            counters
                .responses_by_status
                .range(range)
                .map(|(_, n)| n)
                .sum()
        };
        SandboxStats {
            requests: counters.requests,
            requests_by_kind: counters.requests_by_kind.clone(),
            responses_by_status: counters.responses_by_status.clone(),
            creates: counters.queue_times_ms.len() as u64,
            creates_per_second: counters
                .creates_per_second
                .iter()
                .map(|(s, n)| (*s, *n))
                .collect(),
            queue_time_ms: QueueTimeSummary::of(&counters.queue_times_ms),
            queue_times_ms: counters.queue_times_ms.clone(),
            create_times_ms: counters.create_times_ms.clone(),
            creates_by_to: counters.creates_by_to.clone(),
            max_in_flight: self.max_in_flight.load(Ordering::Acquire) as u64,
            too_many_requests: count_of(429..=429),
            server_errors: count_of(500..=599),
            drops: counters.drops,
            hangs: counters.hangs,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        // A panic elsewhere cannot leave counters inconsistent enough to matter.
        self.counters
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        let summary = QueueTimeSummary::of(&values);
        assert_eq!(
            (summary.p50, summary.p95, summary.p99, summary.max),
            (50, 95, 99, 100)
        );
        assert_eq!(QueueTimeSummary::of(&[]), QueueTimeSummary::default());
    }
}
