//! The dial loop. For each due row: wait for a pacing slot and an in-flight permit, claim the
//! row (its attempt is committed before the request leaves), send Create Participant, record
//! the outcome. Rows whose outcome is unknown are reconciled with Twilio before any re-dial,
//! by checks that run beside the dialing so that a batch of them does not stall the pace;
//! without a callback receiver, how older calls ended is asked beside the dialing too.

mod checks;
mod dial;
mod polls;

use super::adaptive::Adaptive;
use super::config::Campaign;
use super::gate::{Admission, Gate};
use super::in_flight::InFlightLimit;
use super::pacer::Pacer;
use super::progress::Progress;
use crate::stop::{Stop, StopReason};
use crate::store::{Store, StoreError, now_ms};
use crate::twilio::TwilioClient;
use checks::Checks;
use dial::DialTask;
use polls::Polls;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// How the dial loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// No row is due any more (some may be unknown, parked for the next run).
    Finished,
    Stopped(StopReason),
}

pub struct Engine {
    pub campaign: Campaign,
    pub store: Store,
    pub client: TwilioClient,
    pub pacer: Arc<Pacer>,
    pub gate: Gate,
    /// Present when the campaign's pacing adapts to what Twilio's answers show.
    pub adaptive: Option<Arc<Adaptive>>,
    /// Creates allowed in flight (lowered by Twilio's 20429s when pacing adapts).
    pub in_flight: Arc<InFlightLimit>,
    pub stop: Stop,
    pub progress: Arc<Progress>,
}

/// Idle wait when nothing is due but rows are still in flight or waiting for a retry.
const IDLE_POLL: Duration = Duration::from_millis(50);

impl Engine {
    pub async fn run(&self) -> Result<Ending, StoreError> {
        self.recover().await?;
        let permits = Arc::new(Semaphore::new(self.campaign.max_in_flight));
        let mut in_flight = JoinSet::new();
        let mut checks = Checks::default();
        let mut polls = self.polls();
        loop {
            while in_flight.try_join_next().is_some() {}
            self.settle_finished(&mut checks).await?;
            self.settle_polls(&mut polls);
            if self.stop.is_set() {
                break;
            }
            self.start_checks(&permits, &mut checks).await?;
            self.start_polls(&permits, &mut polls).await?;
            // Twilio's concurrency limit answered 20429: fewer creates in flight.
            while in_flight.len() >= self.in_flight_limit() {
                in_flight.join_next().await;
            }
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            let Some(claimed) = self.store.claim_next().await? else {
                drop(permit);
                if in_flight.is_empty()
                    && checks.running.is_empty()
                    && self.nothing_left(&checks).await?
                {
                    break;
                }
                self.idle(&mut in_flight, &mut checks, &mut polls).await?;
                continue;
            };
            // The attempt is on disk but nothing is sent yet: the gate may still hold it back.
            match self.gate.admit(&self.store, &claimed).await? {
                Admission::Dial => {}
                Admission::Defer { until_ms, reason } => {
                    self.store.release(&claimed, until_ms, &reason).await?;
                    continue;
                }
                Admission::Suppress { reason } => {
                    self.store.suppress(&claimed, &reason).await?;
                    continue;
                }
            }
            tokio::select! {
                _ = self.pacer.acquire() => {}
                _ = self.stop.wait() => {
                    self.store.release(&claimed, now_ms(), "the run stopped before it was sent").await?;
                    break;
                }
            }
            let dialer = self.dial_task(in_flight.len() + 1);
            in_flight.spawn(async move {
                dialer.dial(claimed).await;
                drop(permit);
            });
        }
        self.settle_all(&mut checks).await?;
        self.settle_all_polls(&mut polls).await;
        while in_flight.join_next().await.is_some() {}
        Ok(match self.stop.reason() {
            Some(reason) => Ending::Stopped(reason),
            None => Ending::Finished,
        })
    }

    /// What an earlier run or the clock left behind, put right before anything is dialed.
    async fn recover(&self) -> Result<(), StoreError> {
        let stepped = self.store.undo_clock_step().await?;
        if stepped > 0 {
            tracing::warn!(
                rows = stepped,
                "rows were changed later than now: the clock was stepped back; their due times move back with it"
            );
        }
        let orphans = self.store.mark_orphans_unknown().await?;
        if orphans > 0 {
            tracing::warn!(
                rows = orphans,
                "an earlier run stopped mid-request; checking those rows with Twilio before any re-dial"
            );
        }
        Ok(())
    }

    /// Create requests allowed in flight now.
    pub(super) fn in_flight_limit(&self) -> usize {
        self.in_flight.limit().min(self.campaign.max_in_flight)
    }

    /// Called with nothing in flight, so no row of this run is `dialing` or being checked.
    async fn nothing_left(&self, checks: &Checks) -> Result<bool, StoreError> {
        // Recycled rows wait for a later run; retries are waited for.
        Ok(self.store.next_retry_at().await?.is_none()
            && self.store.unknown_count().await? as usize <= checks.parked.len())
    }

    async fn idle(
        &self,
        in_flight: &mut JoinSet<()>,
        checks: &mut Checks,
        polls: &mut Polls,
    ) -> Result<(), StoreError> {
        tokio::select! {
            _ = tokio::time::sleep(IDLE_POLL) => {}
            _ = in_flight.join_next(), if !in_flight.is_empty() => {}
            Some(done) = polls.running.join_next(), if !polls.running.is_empty() => {
                self.settle_poll(done);
            }
            Some(done) = checks.running.join_next(), if !checks.running.is_empty() => {
                if let Ok((row, resolution)) = done {
                    self.settle(checks, row, resolution).await?;
                }
            }
            _ = self.stop.wait() => {}
        }
        Ok(())
    }

    fn dial_task(&self, in_flight: usize) -> DialTask {
        DialTask {
            adaptive: self.adaptive.clone(),
            pacer: self.pacer.clone(),
            limit: self.in_flight.clone(),
            in_flight,
            campaign: self.campaign.clone(),
            store: self.store.clone(),
            client: self.client.clone(),
            stop: self.stop.clone(),
            progress: self.progress.clone(),
        }
    }
}
