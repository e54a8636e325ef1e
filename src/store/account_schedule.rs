//! One account's call slots, shared through the database by every host that dials on it.
//!
//! The file of `campaign::account_slots` shares an account's CPS between the processes of one
//! machine; this row shares it between machines. The schedule itself (a GCRA with a burst
//! tolerance of one interval) is in the migrations' `take_account_slot`: one statement, one
//! round trip, under the row's lock. The row also holds the account's rate while adaptive
//! pacing holds it below the CPS (`hold`), so every host paces at one rate, judged once.

use crate::domain::AccountSid;
use jiff::Timestamp;
use sqlx::postgres::PgPool;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("a call interval of {0:?} cannot be scheduled (from 1 ns to 292 years)")]
    Interval(Duration),
    #[error("the shared database failed on the call schedule of {account}: {cause}")]
    Sql {
        account: AccountSid,
        cause: sqlx::Error,
    },
}

/// A slot taken: when to send, and the database's time when it was given, both on the
/// database's clock; and the interval the account is held to (zero: not held).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub send_at: Timestamp,
    pub db_now: Timestamp,
    pub held: Duration,
}

impl Slot {
    /// How long to wait, from when the slot was given, before sending. Measured between two
    /// readings of one clock, so a host whose own clock is off waits the right time.
    pub fn wait(&self) -> Duration {
        self.db_now
            .duration_until(self.send_at)
            .try_into()
            .unwrap_or(Duration::ZERO)
    }
}

#[derive(Clone)]
pub struct AccountSchedule {
    pool: PgPool,
    account: AccountSid,
}

impl AccountSchedule {
    pub fn new(pool: PgPool, account: AccountSid) -> Self {
        Self { pool, account }
    }

    /// Takes the account's next slot for a caller pacing at `interval`; returns how long to
    /// wait before sending.
    pub async fn take(&self, interval: Duration) -> Result<Duration, ScheduleError> {
        Ok(self.take_slot(interval).await?.wait())
    }

    /// Takes the account's next slot, as the database gave it.
    pub async fn take_slot(&self, interval: Duration) -> Result<Slot, ScheduleError> {
        let interval_ns = nanos(interval)?;
        // Burst tolerance: one interval, the `allow_burst(2)` of a governor limiter. A caller
        // up to one interval late is not charged for it, so the long-run rate is exactly the
        // CPS, and never more than CPS + 1 calls fall in a sliding second.
        let tau_ns = interval_ns;
        let (send_at_ns, db_now_ns, held_ns): (i64, i64, i64) = sqlx::query_as(
            "SELECT send_at_ns, db_now_ns, held_ns FROM take_account_slot($1, $2, $3)",
        )
        .bind(self.account.as_str())
        .bind(interval_ns)
        .bind(tau_ns)
        .fetch_one(&self.pool)
        .await
        .map_err(|cause| self.failed(cause))?;
        Ok(Slot {
            send_at: timestamp(send_at_ns),
            db_now: timestamp(db_now_ns),
            held: held_duration(held_ns),
        })
    }

    /// Holds the account's slots `held` apart (zero: not held), if the account is still held
    /// to `seen` and its hold last changed at least `gap` ago; returns the interval it is held
    /// to after. Hosts judging the same queue each propose a change: the first one counts,
    /// the others read it (a host never changes a rate it has not seen).
    pub async fn hold(
        &self,
        seen: Duration,
        held: Duration,
        gap: Duration,
    ) -> Result<Duration, ScheduleError> {
        // The main query reads the row as it was before the UPDATE: the changed value first.
        let (now_held,): (i64,) = sqlx::query_as(
            "WITH changed AS ( \
                 UPDATE account_schedules \
                    SET held_interval_ns = $3, held_at_ns = unix_clock_ns() \
                  WHERE account_sid = $1 AND held_interval_ns = $2 \
                    AND held_at_ns <= unix_clock_ns() - $4 \
              RETURNING held_interval_ns) \
             SELECT COALESCE((SELECT held_interval_ns FROM changed), \
                             (SELECT held_interval_ns FROM account_schedules \
                               WHERE account_sid = $1), 0)",
        )
        .bind(self.account.as_str())
        .bind(held_nanos(seen)?)
        .bind(held_nanos(held)?)
        .bind(held_nanos(gap)?)
        .fetch_one(&self.pool)
        .await
        .map_err(|cause| self.failed(cause))?;
        Ok(held_duration(now_held))
    }

    /// Gives back a slot of `interval` that placed no call: the next slot moves one interval
    /// earlier, never before now.
    pub async fn give_back(&self, interval: Duration) -> Result<(), ScheduleError> {
        sqlx::query("SELECT give_back_account_slot($1, $2)")
            .bind(self.account.as_str())
            .bind(nanos(interval)?)
            .execute(&self.pool)
            .await
            .map_err(|cause| self.failed(cause))?;
        Ok(())
    }

    fn failed(&self, cause: sqlx::Error) -> ScheduleError {
        ScheduleError::Sql {
            account: self.account.clone(),
            cause,
        }
    }
}

/// An interval as the schedule stores it: whole nanoseconds in a `bigint`, more than zero.
fn nanos(interval: Duration) -> Result<i64, ScheduleError> {
    i64::try_from(interval.as_nanos())
        .ok()
        .filter(|&ns| ns > 0)
        .ok_or(ScheduleError::Interval(interval))
}

/// A held interval as the row stores it: zero (not held) or an interval.
fn held_nanos(held: Duration) -> Result<i64, ScheduleError> {
    if held.is_zero() { Ok(0) } else { nanos(held) }
}

fn held_duration(ns: i64) -> Duration {
    Duration::from_nanos(u64::try_from(ns).unwrap_or(0))
}

/// Unix nanoseconds from the database. Every `i64` of them is within jiff's range (years
/// 1677 to 2262), so this cannot fail.
fn timestamp(ns: i64) -> Timestamp {
    Timestamp::from_nanosecond(i128::from(ns)).expect("i64 nanoseconds are a valid timestamp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_the_schedule_cannot_hold_are_refused_before_any_query() {
        assert!(matches!(
            nanos(Duration::ZERO),
            Err(ScheduleError::Interval(_))
        ));
        assert!(matches!(
            nanos(Duration::from_secs(300 * 365 * 86_400)),
            Err(ScheduleError::Interval(_))
        ));
        assert_eq!(nanos(Duration::from_millis(100)).unwrap(), 100_000_000);
    }

    #[test]
    fn a_slot_in_the_past_means_no_wait() {
        let at = |ns: i64| timestamp(ns);
        let future = Slot {
            send_at: at(1_250_000_000),
            db_now: at(1_000_000_000),
            held: Duration::ZERO,
        };
        let past = Slot {
            send_at: at(900_000_000),
            db_now: at(1_000_000_000),
            held: Duration::ZERO,
        };

        assert_eq!(future.wait(), Duration::from_millis(250));
        assert_eq!(past.wait(), Duration::ZERO);
    }
}
