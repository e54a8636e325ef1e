//! Rows in doubt, checked with Twilio beside the dialing: each check is an API request, so it
//! holds an in-flight permit, but no pacing slot (it creates no call). A row's first look is its
//! own (its callback, its participant by label); after that, one read of the call log at a time
//! answers for every row whose check is due, so a batch of rows in doubt costs a few requests,
//! not a few per row.

use crate::config::Campaign;
use crate::dialing::Engine;
use crate::dialing::breaker::Breaker;
use crate::dialing::reconcile::{self, LogRead, Resolution};
use crate::dialing::retry;
use crate::stop::StopReason;
use crate::store::{Store, StoreError, Unresolved};
use crate::twilio::TwilioClient;
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
    /// When the store is asked even if this run knows of no row due: rows other hosts or
    /// runs left in doubt are found by then.
    look_anyway_at: Option<tokio::time::Instant>,
    /// The last look handed out all it could: more rows may be due.
    last_look_full: bool,
    pub(in crate::dialing) running: JoinSet<Vec<(Unresolved, Resolution)>>,
    checking: HashSet<i64>,
    pub(in crate::dialing) parked: HashSet<i64>,
    tries: HashMap<i64, u32>,
    /// Rows this run has had their first look at.
    looked: HashSet<i64>,
    /// When the call log may next be read (one read at a time, a moment apart).
    next_log_read: Option<tokio::time::Instant>,
}

/// Transient answers (429, 5xx) to a check before its row waits for the next run.
const MAX_CHECKS_PER_RUN: u32 = 20;

/// How often the dial loop asks the store for rows in doubt whose check is due.
const LOOK_FOR_CHECKS_EVERY: Duration = Duration::from_millis(100);

/// How often the store is asked for rows in doubt when this run knows of none due. A look is
/// a transaction on a shared database, so it is not made every turn for rows that are not
/// there; rows this run put in doubt are looked for when their check falls due, and a host's
/// rows taken over by another are found within this (leases are looked after every 10 s).
const LOOK_ANYWAY_EVERY: Duration = Duration::from_secs(5);

/// The shortest time between two reads of the call log: rows falling due meanwhile wait for
/// the next read and share it.
const LOG_READ_GAP: Duration = Duration::from_secs(2);

/// Rows whose attempts started further apart than this are not read from one stretch of the
/// account's log (at 30 CPS a minute is two pages): the oldest are read by their own number.
const ONE_READ_SPAN_MS: i64 = 60_000;

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
        if !probe && (checks.next_look.is_some_and(|at| now < at) || !self.may_be_due(checks, now))
        {
            return Ok(());
        }
        checks.next_look = Some(now + LOOK_FOR_CHECKS_EVERY);
        // Rows are asked for only when all of them can be checked at once: a shared database
        // holds the rows it hands out back from other hosts for a while.
        if checks.next_log_read.is_some_and(|at| now < at) {
            return Ok(());
        }
        let limit = if probe {
            1
        } else {
            (self.campaign.max_in_flight + 64) as i64
        };
        let mut for_the_log = Vec::new();
        let due = self.store.due_unresolved(limit).await?;
        checks.look_anyway_at = Some(now + LOOK_ANYWAY_EVERY);
        checks.last_look_full = due.len() as i64 >= limit;
        for row in due {
            if checks.parked.contains(&row.row_id) || checks.checking.contains(&row.row_id) {
                continue;
            }
            if checks.looked.contains(&row.row_id) {
                for_the_log.push(row);
                continue;
            }
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                break;
            };
            checks.checking.insert(row.row_id);
            checks.looked.insert(row.row_id);
            let (client, breaker, store, campaign) = self.for_a_check();
            checks.running.spawn(
                async move {
                    let resolution =
                        reconcile::first_look(&client, &breaker, &store, &campaign, &row).await;
                    drop(permit);
                    vec![(row, resolution)]
                }
                .in_current_span(),
            );
        }
        self.read_call_log(permits, checks, for_the_log, now);
        Ok(())
    }

    /// Whether the store may hold a row in doubt due for its check: this run knows of one, the
    /// last look was full, or no look was made for a while (or ever).
    fn may_be_due(&self, checks: &Checks, now: tokio::time::Instant) -> bool {
        checks.last_look_full
            || checks.look_anyway_at.is_none_or(|at| now >= at)
            || self
                .progress
                .doubt_due(self.store.now_ms(), &checks.checking)
    }

    /// One read of the call log for rows whose first look is behind them, unless one is under
    /// way or was made a moment ago.
    fn read_call_log(
        &self,
        permits: &Arc<Semaphore>,
        checks: &mut Checks,
        mut rows: Vec<Unresolved>,
        now: tokio::time::Instant,
    ) {
        if rows.is_empty() || checks.next_log_read.is_some_and(|at| now < at) {
            return;
        }
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            return;
        };
        checks.next_log_read = Some(now + LOG_READ_GAP);
        // The newest attempts share one read; a row far older than them is read on its own.
        rows.sort_by_key(|row| std::cmp::Reverse(row.attempt_started_at));
        let newest = rows[0].attempt_started_at;
        let split = rows
            .iter()
            .position(|row| newest - row.attempt_started_at > ONE_READ_SPAN_MS)
            .unwrap_or(rows.len());
        let oldest_alone = (split < rows.len()).then(|| rows.swap_remove(rows.len() - 1));
        rows.truncate(split);
        let batches = [
            Some((rows, LogRead::Stretch)),
            oldest_alone.map(|row| (vec![row], LogRead::Number)),
        ];
        let permit = Arc::new(permit);
        for (batch, read) in batches.into_iter().flatten() {
            checks.checking.extend(batch.iter().map(|row| row.row_id));
            let (client, breaker, store, campaign) = self.for_a_check();
            let permit = permit.clone();
            checks.running.spawn(
                async move {
                    let settled =
                        reconcile::by_call_log(&client, &breaker, &store, &campaign, batch, read)
                            .await;
                    drop(permit);
                    settled
                }
                .in_current_span(),
            );
        }
    }

    fn for_a_check(&self) -> (TwilioClient, Arc<Breaker>, Store, Arc<Campaign>) {
        (
            self.client.clone(),
            self.breaker.clone(),
            self.store.clone(),
            self.campaign.clone(),
        )
    }

    /// Records what a check found for each of its rows.
    pub(in crate::dialing) async fn settle_each(
        &self,
        checks: &mut Checks,
        settled: Vec<(Unresolved, Resolution)>,
    ) -> Result<(), StoreError> {
        for (row, resolution) in settled {
            self.settle(checks, row, resolution).await?;
        }
        Ok(())
    }

    /// Records what a check found.
    async fn settle(
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
                self.progress.in_doubt(row.row_id, None);
            }
            Resolution::NotCreated => {
                self.progress.in_doubt(row.row_id, None);
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
                self.progress.in_doubt(row.row_id, Some(at_ms));
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
                    self.progress.in_doubt(row.row_id, None);
                } else {
                    let delay = retry::delay(&self.campaign.retry, *tries, after);
                    let at_ms = self.store.now_ms() + delay.as_millis() as i64;
                    self.store.postpone_unresolved(&row, at_ms, &why).await?;
                    self.progress.in_doubt(row.row_id, Some(at_ms));
                }
            }
            // The breaker holds every request until Twilio answers again; then it is asked.
            Resolution::Unreachable(why) => {
                tracing::debug!(label = %row.label, "could not reach Twilio to check ({why})");
                self.store
                    .postpone_unresolved(&row, self.store.now_ms(), &why)
                    .await?;
                self.progress
                    .in_doubt(row.row_id, Some(self.store.now_ms()));
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
        while let Some(Ok(settled)) = checks.running.try_join_next() {
            self.settle_each(checks, settled).await?;
        }
        Ok(())
    }

    /// Waits for every check under way and records it.
    pub(in crate::dialing) async fn settle_all(
        &self,
        checks: &mut Checks,
    ) -> Result<(), StoreError> {
        while let Some(done) = checks.running.join_next().await {
            if let Ok(settled) = done {
                self.settle_each(checks, settled).await?;
            }
        }
        Ok(())
    }
}
