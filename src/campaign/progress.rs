//! Live counters of a run, fed by the dial tasks, read by the progress line and the summary.

use crate::store::Outcome;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[derive(Debug)]
pub struct Progress {
    pub started: Instant,
    created: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
    unknown: AtomicU64,
    /// (seconds since start, queue_time ms) of recent creates, for the rate and p95.
    recent: Mutex<Vec<(f64, Option<i64>)>>,
    /// The pacer's rate when adaptive pacing has moved it (f64 bits; 0 = not set).
    pacing_rate: AtomicU64,
    /// Seconds since start of the first and the last create.
    span: Mutex<Option<(f64, f64)>>,
}

/// What the progress line shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub created: u64,
    pub retried: u64,
    pub failed: u64,
    pub unknown: u64,
    /// Creates per second over the last few seconds.
    pub current_cps: f64,
    pub queue_time_p95_ms: Option<i64>,
    /// The rate adaptive pacing runs at, once it has run.
    pub pacing_rate: Option<f64>,
}

/// The window the current rate and queue_time p95 are measured over.
const WINDOW_SECS: f64 = 5.0;

impl Default for Progress {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            created: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            unknown: AtomicU64::new(0),
            recent: Mutex::new(Vec::new()),
            span: Mutex::new(None),
            pacing_rate: AtomicU64::new(0),
        }
    }
}

impl Progress {
    pub fn record(&self, outcome: &Outcome) {
        match outcome {
            Outcome::Created { queue_time_ms, .. } => self.created(*queue_time_ms),
            Outcome::Retry { .. } => _ = self.retried.fetch_add(1, Ordering::Relaxed),
            Outcome::Failed { .. } => _ = self.failed.fetch_add(1, Ordering::Relaxed),
            Outcome::Unknown { .. } => _ = self.unknown.fetch_add(1, Ordering::Relaxed),
        }
    }

    pub fn created(&self, queue_time_ms: Option<i64>) {
        self.created.fetch_add(1, Ordering::Relaxed);
        let now = self.started.elapsed().as_secs_f64();
        let mut span = self.span.lock().unwrap_or_else(|e| e.into_inner());
        *span = Some(span.map_or((now, now), |(first, _)| (first, now)));
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.retain(|(t, _)| now - t <= WINDOW_SECS);
        recent.push((now, queue_time_ms));
    }

    pub fn set_pacing_rate(&self, rate: f64) {
        self.pacing_rate.store(rate.to_bits(), Ordering::Relaxed);
    }

    /// Creates per second from the first create of this run to the last; None under two.
    pub fn achieved_cps(&self) -> Option<f64> {
        let created = self.created.load(Ordering::Relaxed);
        let (first, last) = (*self.span.lock().unwrap_or_else(|e| e.into_inner()))?;
        (created >= 2 && last > first).then(|| (created - 1) as f64 / (last - first))
    }

    pub fn snapshot(&self) -> Snapshot {
        let now = self.started.elapsed().as_secs_f64();
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.retain(|(t, _)| now - t <= WINDOW_SECS);
        let window = WINDOW_SECS.min(now).max(0.001);
        let mut queue: Vec<i64> = recent.iter().filter_map(|(_, q)| *q).collect();
        queue.sort_unstable();
        Snapshot {
            created: self.created.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            unknown: self.unknown.load(Ordering::Relaxed),
            current_cps: recent.len() as f64 / window,
            queue_time_p95_ms: percentile(&queue, 95.0),
            pacing_rate: Some(f64::from_bits(self.pacing_rate.load(Ordering::Relaxed)))
                .filter(|r| *r > 0.0),
        }
    }
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
}
