//! How calls ended, asked of Twilio beside the dialing when no callback receiver is
//! configured: each call old enough to have ended is looked up once per run, oldest first, a
//! page of them at a time in one read of the account's call log (not one request per call).
//! The calls of a page are taken from the store right before its read, so that hosts sharing
//! a campaign each poll calls no other host is polling, and the store is asked once per read,
//! not at every turn. A read holds an in-flight permit (Twilio limits concurrent requests) and
//! never a pacing slot, since the CPS limits call creation only; so the run ends when its
//! dialing ends, without a tail of status requests.

use super::Engine;
use crate::outcomes::poll::{IN_RUN_MIN_AGE, PassSummary, PollError, Poller};
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
    /// When calls may next be taken and the call log read.
    next_read: Option<tokio::time::Instant>,
    /// The last call read from the store: (created_at, row id).
    after: (i64, i64),
    waiting: VecDeque<AwaitingCall>,
    pub(super) running: JoinSet<Result<PassSummary, PollError>>,
}

/// The shortest time between two reads of the call log: the calls that became old enough
/// meanwhile share the next one (at 30 CPS, 150 calls a read).
const READ_EVERY: Duration = Duration::from_secs(5);
/// When no call was old enough to ask about, the store is asked again this soon: a run's
/// first calls come of age at no fixed point of the 5-second rhythm, and waiting a whole
/// `READ_EVERY` could let a short run end without asking about any of them.
const NONE_OLD_ENOUGH_RETRY: Duration = Duration::from_secs(1);
/// Calls asked about in one read: a page of the call log holds 1,000.
const PAGE: usize = 1000;

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
            next_read: None,
            after: (i64::MIN, i64::MIN),
            waiting: VecDeque::new(),
            running: JoinSet::new(),
        }
    }

    /// Takes the calls old enough and reads the call log for them, with a free permit only,
    /// one read at a time and at most one every few seconds.
    pub(super) async fn start_polls(
        &self,
        permits: &Arc<Semaphore>,
        polls: &mut Polls,
    ) -> Result<(), StoreError> {
        let Some(poller) = polls.poller.clone() else {
            return Ok(());
        };
        let now = tokio::time::Instant::now();
        if !polls.running.is_empty() {
            return Ok(());
        }
        // Calls taken but not read yet (no permit was free) go first, without asking again.
        if polls.waiting.is_empty() {
            if polls.next_read.is_some_and(|at| now < at) {
                return Ok(());
            }
            polls.next_read = Some(now + READ_EVERY);
            let created_before = self.store.now_ms() - IN_RUN_MIN_AGE.as_millis() as i64;
            let page = self
                .store
                .take_awaiting_outcome(created_before, polls.after, PAGE as i64)
                .await?;
            match page.last() {
                Some(last) => polls.after = (last.created_at, last.row_id),
                None => polls.next_read = Some(now + NONE_OLD_ENOUGH_RETRY),
            }
            polls.waiting.extend(page);
        }
        if polls.waiting.is_empty() {
            return Ok(());
        }
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            return Ok(());
        };
        let calls: Vec<AwaitingCall> = polls.waiting.drain(..).collect();
        polls.running.spawn(
            async move {
                let polled = poller.poll_in_log(&calls).await;
                drop(permit);
                polled
            }
            .in_current_span(),
        );
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
        done: Result<Result<PassSummary, PollError>, tokio::task::JoinError>,
    ) {
        match done {
            Ok(Err(PollError::Refused(e))) => self.stop.trigger(StopReason::Abort(e.to_string())),
            Ok(Err(PollError::Store(e))) => self.stop.trigger(StopReason::Storage(e.to_string())),
            Ok(Ok(_)) | Err(_) => {}
        }
    }
}
