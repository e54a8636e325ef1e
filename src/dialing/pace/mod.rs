//! Pacing at exactly the account's CPS.
//!
//! Slot k is `start + k / CPS`. A sender that wakes a little late keeps its slot, so the
//! average rate stays exact (a token bucket with burst 1, such as governor's, forgets every
//! late wake-up and runs below the limit); after a pause longer than one interval the schedule
//! restarts from now, so no burst ever builds up. A sender that wakes more than one interval
//! past its slot (a frozen or saturated host) takes a fresh slot rather than send with the
//! next one. Any 1-second window holds at most CPS slots, plus one for timer jitter.
//!
//! Everything that dials on one account shares one schedule: in this process through one
//! `Pacer` per account, and across processes through the account's schedule outside it: on
//! PostgreSQL a row of the shared database, which every host uses (its clock is the
//! database's); on SQLite the account's slot file on this machine, when it can be opened.
//! While the database cannot be reached the pacer waits for it rather than pace alone, which
//! could exceed the account's CPS together with the other hosts.
//!
//! Adaptive pacing sets the rate of the schedule, which spaces every slot of the account: so
//! the rate is the account's, not the process's. On PostgreSQL it is kept in the database's
//! row, and every host paces at it (`adapt`); the slot file keeps no rate, so on SQLite each
//! process keeps its own, judged from the same account-wide signals.
//!
//! A request refused by Twilio's concurrency limit (429/20429) placed no call, and the CPS
//! counts placed calls: its slot is given back (`give_back`), so a share of refusals does not
//! lower the rate of calls placed. Its retry will place a call, so it takes a slot like any
//! create. A 5xx or a dropped answer may have placed one: its slot stays spent.

pub mod account_slots;
pub mod adaptive;
pub mod in_flight;

use crate::domain::{AccountSid, Cps};
use crate::store::AccountSchedule;
use account_slots::AccountSlots;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

#[derive(Debug)]
pub struct Pacer {
    schedule: Mutex<Schedule>,
    /// The account's schedule shared with other processes; `None`: this process's only.
    shared: Option<Shared>,
}

/// Where the account's schedule is kept for other processes.
enum Shared {
    /// This machine's slot file (SQLite campaigns).
    File(AccountSlots),
    /// The shared database, for every host (PostgreSQL campaigns).
    Database(AccountSchedule),
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(slots) => write!(f, "File({})", slots.path().display()),
            Self::Database(_) => f.write_str("Database"),
        }
    }
}

/// How long to wait before asking an unreachable database for a slot again.
const SCHEDULE_RETRY: Duration = Duration::from_millis(500);

#[derive(Debug)]
struct Schedule {
    ceiling: Cps,
    interval: Duration,
    next: Option<Instant>,
    shared_failed: bool,
    /// The interval the database holds the account to, as last read (zero: not held).
    held: Duration,
}

impl Pacer {
    pub fn new(cps: Cps) -> Self {
        Self {
            schedule: Mutex::new(Schedule {
                ceiling: cps,
                interval: cps.interval(),
                next: None,
                shared_failed: false,
                held: Duration::ZERO,
            }),
            shared: None,
        }
    }

    /// One pacer per account (at one API base) in this process, sharing the account's
    /// schedule with other processes: the database's when `database` is given (PostgreSQL),
    /// else this machine's slot file. Everything that dials on the account shares it.
    pub fn for_account(
        account: &AccountSid,
        api_base: &url::Url,
        cps: Cps,
        database: Option<AccountSchedule>,
    ) -> Arc<Self> {
        static PACERS: OnceLock<Mutex<HashMap<String, Weak<Pacer>>>> = OnceLock::new();
        let key = format!("{account} {api_base} {}", database.is_some());
        let mut pacers = PACERS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        pacers.retain(|_, pacer| pacer.strong_count() > 0);
        if let Some(pacer) = pacers.get(&key).and_then(Weak::upgrade) {
            pacer.lower_ceiling(cps);
            return pacer;
        }
        let shared = match database {
            Some(schedule) => Some(Shared::Database(schedule)),
            None => AccountSlots::open(&std::env::temp_dir(), account.as_str(), api_base)
                .inspect_err(|e| {
                    tracing::warn!(
                        "cannot share the account's pacing with other runs ({e}); pacing this run alone"
                    )
                })
                .ok()
                .map(Shared::File),
        };
        let pacer = Arc::new(Self {
            shared,
            ..Self::new(cps)
        });
        pacers.insert(key, Arc::downgrade(&pacer));
        pacer
    }

    /// Takes the next slot and waits for it.
    ///
    /// A wait that ends more than one interval past its slot (the host was frozen, or too busy
    /// to wake in time) does not send: by then the schedule has restarted or moved on, so the
    /// late send would go out with the next one, and several late hosts would add one each to
    /// the same second. It takes a fresh slot instead; the one it leaves is lost (under-use,
    /// never over-use). A slot already due when taken is sent at once, so a saturated host
    /// still sends.
    pub async fn acquire(&self) {
        loop {
            let interval = self.interval();
            let slot = self.next_slot().await;
            if slot <= Instant::now() {
                return;
            }
            tokio::time::sleep_until(slot).await;
            let woke = Instant::now();
            if !missed(slot, woke, interval) {
                return;
            }
            tracing::debug!(late = ?woke - slot, "woke past the call slot; taking a fresh one");
        }
    }

    /// The next slot of the account's schedule, on this process's clock. The database's slot
    /// is placed from when its answer is read: a pause while the answer is on its way is not
    /// seen (judging from when it was asked would take every slot again on a slow database).
    async fn next_slot(&self) -> Instant {
        match &self.shared {
            Some(Shared::Database(schedule)) => {
                let wait = self.database_slot(schedule).await;
                Instant::now() + wait
            }
            _ => self.take_slot(Instant::now()),
        }
    }

    /// The wait for the next slot of the database's schedule, asking again until the database
    /// answers (the caller stops waiting when its run stops). The database spaces it by the
    /// account's held rate when that is below the CPS; this process then paces at it too.
    async fn database_slot(&self, schedule: &AccountSchedule) -> Duration {
        let mut warned = false;
        loop {
            match schedule.take_slot(self.ceiling().interval()).await {
                Ok(slot) => {
                    self.mirror(slot.held);
                    return slot.wait();
                }
                Err(e) if !warned => {
                    tracing::warn!("{e}; waiting for the database before sending");
                    warned = true;
                }
                Err(_) => {}
            }
            tokio::time::sleep(SCHEDULE_RETRY).await;
        }
    }

    fn interval(&self) -> Duration {
        self.schedule
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .interval
    }

    fn take_slot(&self, now: Instant) -> Instant {
        let mut s = self.schedule.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(Shared::File(shared)) = self.shared.as_ref().filter(|_| !s.shared_failed) {
            match shared.take(s.interval) {
                Ok(at) => {
                    let wait = at.duration_since(SystemTime::now()).unwrap_or_default();
                    return now + wait;
                }
                Err(e) => {
                    tracing::warn!(
                        "the account's slot file {} failed ({e}); pacing this run alone",
                        shared.path().display()
                    );
                    s.shared_failed = true;
                }
            }
        }
        let slot = match s.next {
            Some(next) if next + s.interval >= now => next,
            _ => now,
        };
        s.next = Some(slot + s.interval);
        slot
    }

    /// Gives back a slot that placed no call: the next slot comes one interval earlier, never
    /// before now. At most one extra create lands in a second for each slot given back, and
    /// the refused one placed nothing there.
    pub fn give_back(&self) {
        let mut s = self.schedule.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(Shared::Database(schedule)) = &self.shared {
            let (schedule, interval) = (schedule.clone(), s.interval);
            // A slot not given back is only under-use: a failure here is not worth a wait.
            tokio::spawn(async move {
                if let Err(e) = schedule.give_back(interval).await {
                    tracing::debug!("could not give a slot back: {e}");
                }
            });
            return;
        }
        if let Some(Shared::File(shared)) = self.shared.as_ref().filter(|_| !s.shared_failed) {
            if let Err(e) = shared.give_back(s.interval) {
                tracing::warn!(
                    "the account's slot file {} failed ({e}); pacing this run alone",
                    shared.path().display()
                );
                s.shared_failed = true;
            }
            return;
        }
        let now = Instant::now();
        let interval = s.interval;
        s.next = s
            .next
            .map(|next| next.checked_sub(interval).unwrap_or(now).max(now));
    }

    /// The configured CPS: the rate is never set above it.
    pub fn ceiling(&self) -> Cps {
        self.schedule
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .ceiling
    }

    /// Calls per second now (below the ceiling while adaptive pacing backs off).
    pub fn rate(&self) -> f64 {
        let s = self.schedule.lock().unwrap_or_else(|e| e.into_inner());
        1e9 / s.interval.as_nanos().max(1) as f64
    }

    /// Sets the rate, clamped to 1 call per second and the ceiling.
    pub fn set_rate(&self, per_second: f64) {
        let mut s = self.schedule.lock().unwrap_or_else(|e| e.into_inner());
        s.interval = interval_at(s.ceiling, per_second);
    }

    /// Sets the account's rate (adaptive pacing), judged from signals gathered over the last
    /// `judged_over`: in the database for every host when it is shared there, else for this
    /// process. On the database, only if nobody changed the rate meanwhile: signals partly
    /// sent at an older rate would move it again for the same queue. This process paces at
    /// the account's rate either way.
    pub async fn adapt(&self, per_second: f64, judged_over: Duration) {
        let Some(Shared::Database(schedule)) = &self.shared else {
            self.set_rate(per_second);
            return;
        };
        let (seen, wanted) = {
            let s = self.schedule.lock().unwrap_or_else(|e| e.into_inner());
            let interval = interval_at(s.ceiling, per_second);
            // At the CPS the account is not held: each campaign's own CPS rules.
            let wanted = if interval > s.ceiling.interval() {
                interval
            } else {
                Duration::ZERO
            };
            (s.held, wanted)
        };
        // Nothing to change (the usual case, at the CPS): no statement, and the hold's time is
        // left as it is, so other hosts may still change it. Slots taken bring any change made
        // elsewhere.
        if wanted == seen {
            return;
        }
        match schedule.hold(seen, wanted, judged_over).await {
            Ok(held) => self.mirror(held),
            // The rate stays as it was: the next window judges again.
            Err(e) => tracing::debug!("could not set the account's rate: {e}"),
        }
    }

    /// Paces at the interval the database holds the account to (never faster than the CPS).
    fn mirror(&self, held: Duration) {
        let mut s = self.schedule.lock().unwrap_or_else(|e| e.into_inner());
        s.held = held;
        s.interval = held.max(s.ceiling.interval());
    }

    fn lower_ceiling(&self, cps: Cps) {
        let mut s = self.schedule.lock().unwrap_or_else(|e| e.into_inner());
        if cps < s.ceiling {
            s.ceiling = cps;
            s.interval = s.interval.max(cps.interval());
        }
    }
}

/// The interval of `per_second` calls, clamped to 1 call per second and the ceiling.
fn interval_at(ceiling: Cps, per_second: f64) -> Duration {
    let top = f64::from(ceiling.get().get());
    let rate = if per_second.is_finite() {
        per_second.clamp(1.0, top)
    } else {
        top
    };
    if rate >= top {
        ceiling.interval()
    } else {
        Duration::from_nanos((1e9 / rate).ceil() as u64)
    }
}

/// Whether a sender that woke at `woke` missed its `slot`: later than the one interval of
/// lateness every schedule tolerates (this process's, the slot file's and the database's).
fn missed(slot: Instant, woke: Instant, interval: Duration) -> bool {
    woke > slot + interval
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
    fn a_sender_more_than_an_interval_past_its_slot_missed_it() {
        let (slot, interval) = (Instant::now(), Duration::from_millis(100));
        let cases = [
            (0, false),
            (60, false),
            (100, false),
            (101, true),
            (5_000, true),
        ];
        for (late_ms, want) in cases {
            let woke = slot + Duration::from_millis(late_ms);
            assert_eq!(missed(slot, woke, interval), want, "{late_ms} ms late");
        }
    }

    #[test]
    fn the_rate_never_goes_above_the_ceiling_or_below_one() {
        let pacer = Pacer::new(Cps::new(10).unwrap());
        pacer.set_rate(25.0);
        assert_eq!(pacer.rate(), 10.0);
        pacer.set_rate(0.1);
        assert!((pacer.rate() - 1.0).abs() < 1e-6);
        pacer.set_rate(4.0);
        assert!((pacer.rate() - 4.0).abs() < 1e-6);
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

    #[test]
    fn a_slot_given_back_comes_again_but_never_before_now() {
        let pacer = Pacer::new(Cps::new(10).unwrap());
        let start = Instant::now();
        let taken = slots(&pacer, start, &[Duration::ZERO; 3]);
        assert_eq!(taken, [0, 100, 200].map(Duration::from_millis));

        pacer.give_back();

        // The next free slot was 300 ms; given back, it is 200 ms (never before now).
        let next = pacer.take_slot(start) - start;
        assert!(next <= Duration::from_millis(200), "{next:?}");
        assert!(pacer.take_slot(start) - start <= Duration::from_millis(300));
    }
}
