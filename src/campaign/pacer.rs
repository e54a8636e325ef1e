//! Pacing at exactly the account's CPS.
//!
//! Slot k is `start + k / CPS`. A sender that wakes a little late keeps its slot, so the
//! average rate stays exact (a token bucket with burst 1, such as governor's, forgets every
//! late wake-up and runs below the limit); after a pause longer than one interval the schedule
//! restarts from now, so no burst ever builds up. Any 1-second window holds at most CPS slots,
//! plus one for timer jitter.

use crate::domain::{AccountSid, Cps};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug)]
pub struct Pacer {
    schedule: Mutex<Schedule>,
}

#[derive(Debug)]
struct Schedule {
    interval: Duration,
    next: Option<Instant>,
}

impl Pacer {
    pub fn new(cps: Cps) -> Self {
        Self {
            schedule: Mutex::new(Schedule {
                interval: cps.interval(),
                next: None,
            }),
        }
    }

    /// One pacer per account in this process: everything that dials on the account shares it.
    pub fn for_account(account: &AccountSid, cps: Cps) -> Arc<Self> {
        static PACERS: OnceLock<Mutex<HashMap<AccountSid, Weak<Pacer>>>> = OnceLock::new();
        let mut pacers = PACERS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        pacers.retain(|_, pacer| pacer.strong_count() > 0);
        if let Some(pacer) = pacers.get(account).and_then(Weak::upgrade) {
            pacer.set_rate(cps.min(pacer.rate()));
            return pacer;
        }
        let pacer = Arc::new(Self::new(cps));
        pacers.insert(account.clone(), Arc::downgrade(&pacer));
        pacer
    }

    /// Takes the next slot and waits for it.
    pub async fn acquire(&self) {
        let slot = self.take_slot(Instant::now());
        tokio::time::sleep_until(slot).await;
    }

    fn take_slot(&self, now: Instant) -> Instant {
        let mut s = self.schedule.lock().unwrap_or_else(|e| e.into_inner());
        let slot = match s.next {
            Some(next) if next + s.interval >= now => next,
            _ => now,
        };
        s.next = Some(slot + s.interval);
        slot
    }

    pub fn rate(&self) -> Cps {
        let s = self.schedule.lock().unwrap_or_else(|e| e.into_inner());
        let per_second = (Duration::from_secs(1).as_nanos() / s.interval.as_nanos().max(1)) as u32;
        Cps::new(per_second.clamp(1, Cps::MAX))
            .unwrap_or_else(|_| unreachable!("clamped to 1..=30"))
    }

    pub fn set_rate(&self, cps: Cps) {
        self.schedule
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .interval = cps.interval();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(pacer: &Pacer, start: Instant, wakeups: &[Duration]) -> Vec<Duration> {
        wakeups
            .iter()
            .map(|w| pacer.take_slot(start + *w) - start)
            .collect()
    }

    #[test]
    fn slots_are_spaced_by_the_interval_from_the_first() {
        let pacer = Pacer::new(Cps::new(10).unwrap());
        let start = Instant::now();
        let got = slots(&pacer, start, &[Duration::ZERO; 4]);
        assert_eq!(got, [0, 100, 200, 300].map(Duration::from_millis));
    }

    #[test]
    fn a_late_wakeup_keeps_its_slot_so_the_rate_is_exact() {
        let pacer = Pacer::new(Cps::new(10).unwrap());
        let start = Instant::now();
        // The sender asks again 5 ms after each slot: the schedule does not drift.
        let got = slots(
            &pacer,
            start,
            &[0, 105, 205, 305].map(Duration::from_millis),
        );
        assert_eq!(got, [0, 100, 200, 300].map(Duration::from_millis));
    }

    #[test]
    fn after_a_pause_the_schedule_restarts_without_a_burst() {
        let pacer = Pacer::new(Cps::new(10).unwrap());
        let start = Instant::now();
        let got = slots(
            &pacer,
            start,
            &[0, 1000, 1000, 1000].map(Duration::from_millis),
        );
        assert_eq!(got, [0, 1000, 1100, 1200].map(Duration::from_millis));
    }

    #[test]
    fn no_one_second_window_holds_more_than_cps_slots() {
        let pacer = Pacer::new(Cps::new(30).unwrap());
        let start = Instant::now();
        let all: Vec<Duration> = (0..300).map(|_| pacer.take_slot(start) - start).collect();
        for (i, first) in all.iter().enumerate() {
            let in_window = all[i..]
                .iter()
                .take_while(|t| **t < *first + Duration::from_secs(1))
                .count();
            assert!(
                in_window <= 30,
                "{in_window} slots in the second after {first:?}"
            );
        }
    }
}
