//! Rows in doubt, checked with Twilio beside the dialing: each check is an API request, so it
//! holds an in-flight permit, but no pacing slot (it creates no call).

use crate::dialing::Engine;
use crate::dialing::reconcile::{self, Resolution};
use crate::dialing::retry;
use crate::stop::StopReason;
use crate::store::{StoreError, Unresolved};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;

/// This run's checks of rows in doubt: those under way, those it gave up on (parked for the
/// next run), and how often each was tried.
#[derive(Default)]
pub(in crate::dialing) struct Checks {
    /// When the store may next be asked for due rows in doubt (not at every dial).
    next_look: Option<tokio::time::Instant>,
    pub(in crate::dialing) running: JoinSet<(Unresolved, Resolution)>,
    checking: HashSet<i64>,
    pub(in crate::dialing) parked: HashSet<i64>,
    tries: HashMap<i64, u32>,
}

/// Transient answers (429, 5xx) to a check before its row waits for the next run.
const MAX_CHECKS_PER_RUN: u32 = 20;

/// How often the dial loop asks the store for rows in doubt whose check is due.
const LOOK_FOR_CHECKS_EVERY: Duration = Duration::from_millis(100);

impl Engine {
    /// Asks Twilio about each due row in doubt, side by side with the dialing: each check
    /// holds an in-flight permit (it is an API request too) but no pacing slot. While Twilio
    /// is unreachable, a `probe` turn asks about one row at most.
    pub(in crate::dialing) async fn start_checks(
        &self,
        permits: &Arc<Semaphore>,
        checks: &mut Checks,
        probe: bool,
    ) -> Result<(), StoreError> {
        let now = tokio::time::Instant::now();
        if checks.next_look.is_some_and(|at| now < at) && !probe {
            return Ok(());
        }
        checks.next_look = Some(now + LOOK_FOR_CHECKS_EVERY);
        let limit = if probe {
            1
        } else {
            (self.campaign.max_in_flight + 64) as i64
        };
        for row in self.store.due_unresolved(limit).await? {
            if checks.parked.contains(&row.row_id) || checks.checking.contains(&row.row_id) {
                continue;
            }
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                break;
            };
            checks.checking.insert(row.row_id);
            let (client, breaker, store, campaign) = (
                self.client.clone(),
                self.breaker.clone(),
                self.store.clone(),
                self.campaign.clone(),
            );
            checks.running.spawn(
                async move {
                    let resolution =
                        reconcile::resolve(&client, &breaker, &store, &campaign, &row).await;
                    drop(permit);
                    (row, resolution)
                }
                .in_current_span(),
            );
        }
        Ok(())
    }

    /// Records what a check found.
    pub(in crate::dialing) async fn settle(
        &self,
        checks: &mut Checks,
        row: Unresolved,
        resolution: Resolution,
    ) -> Result<(), StoreError> {
        checks.checking.remove(&row.row_id);
        match resolution {
            Resolution::Found {
                call_sid,
                conference_sid,
            } => {
                tracing::info!(label = %row.label, %call_sid, "the call was created after all; not dialing again");
                self.store
                    .resolve_found(&row, &call_sid, conference_sid.as_ref())
                    .await?;
                self.progress.found_created();
            }
            Resolution::NotCreated => {
                // Every create that may have reached Twilio counts toward max_attempts.
                let failures = row.failures + 1;
                if failures >= i64::from(self.campaign.max_attempts) {
                    let why = row
                        .attempt_message
                        .as_deref()
                        .unwrap_or("no call was created");
                    let reason = format!("gave up after {failures} attempts: {why}");
                    tracing::info!(label = %row.label, "Twilio has no such call; {reason}");
                    self.store
                        .resolve_not_created(&row, self.store.now_ms(), Some(&reason))
                        .await?;
                } else {
                    tracing::info!(label = %row.label, "Twilio has no such call, and its call log has caught up; dialing again");
                    self.store
                        .resolve_not_created(&row, self.store.now_ms(), None)
                        .await?;
                }
            }
            Resolution::NotYet { at_ms } => {
                let why = "no call found yet: checking again once Twilio's call log has caught up";
                tracing::debug!(label = %row.label, "{why}");
                self.store.postpone_unresolved(&row, at_ms, why).await?;
            }
            Resolution::Later { why, after } => {
                let tries = checks.tries.entry(row.row_id).or_default();
                *tries += 1;
                if *tries >= MAX_CHECKS_PER_RUN {
                    tracing::warn!(label = %row.label, "could not check with Twilio ({why}); parked for the next run");
                    self.store
                        .postpone_unresolved(&row, self.store.now_ms(), &why)
                        .await?;
                    checks.parked.insert(row.row_id);
                } else {
                    let delay = retry::delay(&self.campaign.retry, *tries, after);
                    self.store
                        .postpone_unresolved(
                            &row,
                            self.store.now_ms() + delay.as_millis() as i64,
                            &why,
                        )
                        .await?;
                }
            }
            // The breaker holds every request until Twilio answers again; then it is asked.
            Resolution::Unreachable(why) => {
                tracing::debug!(label = %row.label, "could not reach Twilio to check ({why})");
                self.store
                    .postpone_unresolved(&row, self.store.now_ms(), &why)
                    .await?;
            }
            Resolution::Abort(why) => self.stop.trigger(StopReason::Abort(why)),
        }
        Ok(())
    }

    /// Records the checks that have finished, without waiting.
    pub(in crate::dialing) async fn settle_finished(
        &self,
        checks: &mut Checks,
    ) -> Result<(), StoreError> {
        while let Some(Ok((row, resolution))) = checks.running.try_join_next() {
            self.settle(checks, row, resolution).await?;
        }
        Ok(())
    }

    /// Waits for every check under way and records it.
    pub(in crate::dialing) async fn settle_all(
        &self,
        checks: &mut Checks,
    ) -> Result<(), StoreError> {
        while let Some(done) = checks.running.join_next().await {
            if let Ok((row, resolution)) = done {
                self.settle(checks, row, resolution).await?;
            }
        }
        Ok(())
    }
}
