//! The store's clock: the one time every stored instant is written in and compared with.
//!
//! On PostgreSQL it is the database server's clock (`unix_ms()`), read when the store opens
//! and carried forward on this process's monotonic clock: hosts whose wall clocks disagree by
//! minutes still write leases, due times and attempts' times on one clock, and reading it costs
//! no round trip. On SQLite, one machine's file, it is that machine's wall clock, read the
//! same way, so a step of it in the middle of a run moves nothing already scheduled.

use std::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct StoreClock {
    /// When the reading was taken, on the monotonic clock.
    at: Instant,
    /// What the clock read then (unix ms).
    read_ms: i64,
}

impl StoreClock {
    /// The clock that read `read_ms` at `at`.
    pub fn anchored(at: Instant, read_ms: i64) -> Self {
        Self { at, read_ms }
    }

    /// This machine's wall clock, read now.
    pub fn of_this_machine() -> Self {
        Self::anchored(Instant::now(), jiff::Timestamp::now().as_millisecond())
    }

    /// Now, on this clock (unix ms).
    pub fn now_ms(&self) -> i64 {
        let elapsed = i64::try_from(self.at.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.read_ms.saturating_add(elapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_clock_runs_on_from_its_reading_whatever_the_wall_clock_says() {
        let clock = StoreClock::anchored(Instant::now() - Duration::from_secs(90), 1_000_000);
        let now = clock.now_ms();
        assert!((1_090_000..1_091_000).contains(&now), "{now}");
        assert!(clock.now_ms() >= now, "never runs backwards");
    }
}
