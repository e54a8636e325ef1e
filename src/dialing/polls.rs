//! How created calls ended, asked of Twilio beside the dialing when no callback receiver is
//! configured: each call old enough to have ended is asked about once per run, oldest first.
//! A GET holds an in-flight permit (Twilio limits concurrent requests) and never a pacing
//! slot, since the CPS limits call creation only; so the run ends when its dialing ends,
//! without a tail of status requests.

use super::Engine;
use crate::outcomes::poll::{IN_RUN_MIN_AGE, PollError, Polled, Poller};
use crate::stop::StopReason;
use crate::store::{AwaitingCall, StoreError};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;

/// This run's status requests: the calls waiting to be asked about, and those under way.
pub(super) struct Polls {
    /// `None` when callbacks bring the outcomes.
    poller: Option<Arc<Poller>>,
    next_look: Option<tokio::time::Instant>,
    /// The last call read from the store: (created_at, row id).
    after: (i64, i64),
    waiting: VecDeque<AwaitingCall>,
    pub(super) running: JoinSet<Result<Polled, PollError>>,
}

/// How often the store is asked for calls that have become old enough.
const LOOK_EVERY: Duration = Duration::from_millis(500);
/// Calls read from the store at a time.
const PAGE: i64 = 100;

impl Engine {
    pub(super) fn polls(&self) -> Polls {
        let poller = self.campaign.rules.callbacks.is_none().then(|| {
            let recorder = self
                .campaign
                .recorder(self.store.clone(), self.metrics.clone());
            Arc::new(Poller::new(self.client.clone(), recorder))
        });
        Polls {
            poller,
            next_look: None,
            after: (i64::MIN, i64::MIN),
            waiting: VecDeque::new(),
            running: JoinSet::new(),
        }
    }

    /// Starts status requests for calls old enough, with free permits only, and with at most
    /// half of them, so that dialing always has permits left.
    pub(super) async fn start_polls(
        &self,
        permits: &Arc<Semaphore>,
        polls: &mut Polls,
    ) -> Result<(), StoreError> {
        let Some(poller) = polls.poller.clone() else {
            return Ok(());
        };
        let now = tokio::time::Instant::now();
        if polls.waiting.is_empty() && polls.next_look.is_none_or(|at| now >= at) {
            polls.next_look = Some(now + LOOK_EVERY);
            let created_before = self.store.now_ms() - IN_RUN_MIN_AGE.as_millis() as i64;
            let page = self
                .store
                .awaiting_outcome(created_before, polls.after, PAGE)
                .await?;
            if let Some(last) = page.last() {
                polls.after = (last.created_at, last.row_id);
            }
            polls.waiting.extend(page);
        }
        let most = (self.in_flight_limit() / 2).max(1);
        while polls.running.len() < most && !polls.waiting.is_empty() {
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                break;
            };
            let Some(call) = polls.waiting.pop_front() else {
                break;
            };
            let poller = poller.clone();
            polls.running.spawn(
                async move {
                    let polled = poller.poll(&call).await;
                    drop(permit);
                    polled
                }
                .in_current_span(),
            );
        }
        Ok(())
    }

    /// Records what finished status requests found, without waiting.
    pub(super) fn settle_polls(&self, polls: &mut Polls) {
        while let Some(done) = polls.running.try_join_next() {
            self.settle_poll(done);
        }
    }

    /// Waits for the status requests under way; those not started are left for later.
    pub(super) async fn settle_all_polls(&self, polls: &mut Polls) {
        polls.waiting.clear();
        while let Some(done) = polls.running.join_next().await {
            self.settle_poll(done);
        }
    }

    pub(super) fn settle_poll(
        &self,
        done: Result<Result<Polled, PollError>, tokio::task::JoinError>,
    ) {
        match done {
            Ok(Err(PollError::Refused(e))) => self.stop.trigger(StopReason::Abort(e.to_string())),
            Ok(Err(PollError::Store(e))) => self.stop.trigger(StopReason::Storage(e.to_string())),
            Ok(Ok(_)) | Err(_) => {}
        }
    }
}
