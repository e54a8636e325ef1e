//! Rows claimed ahead of their slots. A claim takes the rows this run sends in the next
//! second (up to 8), so that the database sees one claim for several calls instead of one
//! each. A row waits for its turn a fraction of a second, and is asked the gate when its turn
//! comes, as a row claimed alone is.
//!
//! How many rows a run sends in half a second is measured, not assumed: hosts share an
//! account's slots, so a run's share is anything from all of the account's CPS down to a
//! small part of it. The next claim is sized by how fast the last one was used up (one row
//! after an idle spell), and kept to a quarter of what the lease leaves once a request's
//! time is set aside (on PostgreSQL), so that a row claimed ahead is sent well inside it. A
//! row whose lease might no longer cover its request once its slot comes is given back
//! before it takes a slot: a slot taken and then not used would be lost to the account.
//!
//! A stop gives back what was claimed and not sent, except a stop because the calling windows
//! closed (see `held`): rows claimed ahead were due inside their windows, so each still goes
//! through the gate and its slot, and only those whose own window closed wait for it.

use super::Engine;
use crate::stop::StopReason;
use crate::store::{Claimed, StoreError};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How far ahead of this run's sends rows are claimed.
const CLAIM_AHEAD: Duration = Duration::from_secs(1);
/// The most rows one claim takes.
const MAX_CLAIM: u32 = 8;

/// The longest wait between two claims that found nothing.
const MAX_IDLE_WAIT: Duration = Duration::from_millis(400);

/// Rows claimed and not yet sent, first due first, and how fast the last claim was used up.
#[derive(Default)]
pub(super) struct Ahead {
    rows: VecDeque<Claimed>,
    /// The last claim: when, and how many rows it took.
    last: Option<(Instant, usize)>,
    /// Claims in a row that found nothing.
    empty: u32,
}

impl Ahead {
    /// How long a run that found nothing to claim waits before it looks again: the idle poll,
    /// doubling with each claim in a row that found nothing, up to `MAX_IDLE_WAIT`. A run
    /// whose rows other hosts hold, or that waits for its last answers, then asks the
    /// database a few times a second rather than twenty.
    pub(super) fn idle_wait(&self) -> Duration {
        (super::IDLE_POLL * 2u32.pow(self.empty.min(4))).min(MAX_IDLE_WAIT)
    }
}

impl Engine {
    /// The next row to send: one claimed ahead, else the first of a new claim; `None` when
    /// nothing is due or the run stopped.
    pub(super) async fn next_claimed(
        &self,
        ahead: &mut Ahead,
    ) -> Result<Option<Claimed>, StoreError> {
        loop {
            if ahead.rows.is_empty() && !self.stop.is_set() {
                let claimed = self.store.claim_due(self.claim_size(ahead)).await?;
                ahead.last = Some((Instant::now(), claimed.len()));
                ahead.empty = if claimed.is_empty() {
                    ahead.empty + 1
                } else {
                    0
                };
                ahead.rows.extend(claimed);
            }
            let Some(claimed) = ahead.rows.pop_front() else {
                return Ok(None);
            };
            // Its slot may be up to a claim's horizon away yet.
            if self.lease_covers(&claimed, self.claim_horizon()) {
                return Ok(Some(claimed));
            }
            let why = "not sent: its lease had too little time left for the request";
            self.store
                .release(&claimed, self.store.now_ms(), why)
                .await?;
        }
    }

    /// Whether a stopped run still sends the rows it claimed ahead: only when the calling
    /// windows closed.
    pub(super) fn sends_claimed_ahead(&self, ahead: &Ahead) -> bool {
        !ahead.rows.is_empty() && self.stop.reason() == Some(StopReason::WindowClosed)
    }

    /// Gives back every row claimed ahead and not sent: pending again from now.
    pub(super) async fn release_ahead(&self, ahead: &mut Ahead) -> Result<(), StoreError> {
        while let Some(claimed) = ahead.rows.front() {
            let why = "the run stopped before it was sent";
            self.store
                .release(claimed, self.store.now_ms(), why)
                .await?;
            ahead.rows.pop_front();
        }
        Ok(())
    }

    /// The rows this run sends in `CLAIM_AHEAD` (or in a quarter of the lease's room), judged
    /// from how fast it used up its last claim; one after an idle spell.
    fn claim_size(&self, ahead: &Ahead) -> u32 {
        let Some((at, rows)) = ahead.last else {
            return 1;
        };
        let sent_per_second = rows as f64 / at.elapsed().as_secs_f64().max(1e-3);
        ((sent_per_second * self.claim_horizon().as_secs_f64()) as u32).clamp(1, MAX_CLAIM)
    }

    /// How far ahead rows are claimed: `CLAIM_AHEAD`, or a quarter of the lease's room when
    /// that is less (on PostgreSQL).
    fn claim_horizon(&self) -> Duration {
        match self.store.is_shared() {
            true => CLAIM_AHEAD.min(self.lease_room() / 4),
            false => CLAIM_AHEAD,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_keeps_finding_nothing_looks_less_often_up_to_a_bound() {
        let waits: Vec<u128> = (0..7)
            .map(|empty| {
                let ahead = Ahead {
                    empty,
                    ..Ahead::default()
                };
                ahead.idle_wait().as_millis()
            })
            .collect();

        assert_eq!(waits, [50, 100, 200, 400, 400, 400, 400]);
    }
}
