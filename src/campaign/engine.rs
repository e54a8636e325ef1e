//! The dial loop. For each due row: wait for a pacing slot and an in-flight permit, claim the
//! row (its attempt is committed before the request leaves), send Create Participant, record
//! the outcome. Rows whose outcome is unknown are reconciled with Twilio before any re-dial,
//! by checks that run beside the dialing so that a batch of them does not stall the pace.

use super::adaptive::Adaptive;
use super::config::Campaign;
use super::gate::{Admission, Gate};
use super::pacer::Pacer;
use super::progress::Progress;
use super::reconcile::{self, Resolution};
use super::retry;
use super::stop::{Stop, StopReason};
use crate::domain::{Caller, ConferenceTarget, Endpoint, Label};
use crate::store::{Claimed, Outcome, Store, StoreError, Unresolved, now_ms};
use crate::twilio::error::{CODE_CONFERENCE_FULL, CODE_TOO_MANY_REQUESTS};
use crate::twilio::{ApiError, CreateParticipant, Disposition, ParamError, TwilioClient};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;

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
    pub stop: Stop,
    pub progress: Arc<Progress>,
}

/// This run's checks of rows in doubt: those under way, those it gave up on (parked for the
/// next run), and how often each was tried.
#[derive(Default)]
struct Checks {
    /// When the store may next be asked for due rows in doubt (not at every dial).
    next_look: Option<tokio::time::Instant>,
    running: JoinSet<(Unresolved, Resolution)>,
    checking: HashSet<i64>,
    parked: HashSet<i64>,
    tries: HashMap<i64, u32>,
}

/// Transient answers (429, 5xx) to a check before its row waits for the next run.
const MAX_CHECKS_PER_RUN: u32 = 20;

/// How often the dial loop asks the store for rows in doubt whose check is due.
const LOOK_FOR_CHECKS_EVERY: Duration = Duration::from_millis(100);

/// Idle wait when nothing is due but rows are still in flight or waiting for a retry.
const IDLE_POLL: Duration = Duration::from_millis(50);

impl Engine {
    pub async fn run(&self) -> Result<Ending, StoreError> {
        let orphans = self.store.mark_orphans_unknown().await?;
        if orphans > 0 {
            tracing::warn!(
                rows = orphans,
                "an earlier run stopped mid-request; checking those rows with Twilio before any re-dial"
            );
        }
        let permits = Arc::new(Semaphore::new(self.campaign.max_in_flight));
        let mut in_flight = JoinSet::new();
        let mut checks = Checks::default();
        loop {
            while in_flight.try_join_next().is_some() {}
            while let Some(Ok((row, resolution))) = checks.running.try_join_next() {
                self.settle(&mut checks, row, resolution).await?;
            }
            if self.stop.is_set() {
                break;
            }
            self.start_checks(&permits, &mut checks).await?;
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
                self.idle(&mut in_flight, &mut checks).await?;
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
            let dialer = self.dial_task();
            in_flight.spawn(async move {
                dialer.dial(claimed).await;
                drop(permit);
            });
        }
        while let Some(done) = checks.running.join_next().await {
            if let Ok((row, resolution)) = done {
                self.settle(&mut checks, row, resolution).await?;
            }
        }
        while in_flight.join_next().await.is_some() {}
        Ok(match self.stop.reason() {
            Some(reason) => Ending::Stopped(reason),
            None => Ending::Finished,
        })
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
    ) -> Result<(), StoreError> {
        tokio::select! {
            _ = tokio::time::sleep(IDLE_POLL) => {}
            _ = in_flight.join_next(), if !in_flight.is_empty() => {}
            Some(done) = checks.running.join_next(), if !checks.running.is_empty() => {
                if let Ok((row, resolution)) = done {
                    self.settle(checks, row, resolution).await?;
                }
            }
            _ = self.stop.wait() => {}
        }
        Ok(())
    }

    /// Asks Twilio about each due row in doubt, side by side with the dialing: each check
    /// holds an in-flight permit (it is an API request too) but no pacing slot.
    async fn start_checks(
        &self,
        permits: &Arc<Semaphore>,
        checks: &mut Checks,
    ) -> Result<(), StoreError> {
        let now = tokio::time::Instant::now();
        if checks.next_look.is_some_and(|at| now < at) {
            return Ok(());
        }
        checks.next_look = Some(now + LOOK_FOR_CHECKS_EVERY);
        let limit = (self.campaign.max_in_flight + 64) as i64;
        for row in self.store.due_unresolved(limit).await? {
            if checks.parked.contains(&row.row_id) || checks.checking.contains(&row.row_id) {
                continue;
            }
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                break;
            };
            checks.checking.insert(row.row_id);
            let (client, store, campaign) = (
                self.client.clone(),
                self.store.clone(),
                self.campaign.clone(),
            );
            checks.running.spawn(async move {
                let resolution = reconcile::resolve(&client, &store, &campaign, &row).await;
                drop(permit);
                (row, resolution)
            });
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
                    .resolve_found(&row, &call_sid, conference_sid.as_deref())
                    .await?;
                self.progress.created(None);
            }
            Resolution::NotCreated => {
                tracing::info!(label = %row.label, "Twilio has no such call; dialing again");
                self.store.resolve_not_created(&row, now_ms()).await?;
            }
            Resolution::Later { why, after } => {
                let tries = checks.tries.entry(row.row_id).or_default();
                *tries += 1;
                if *tries >= MAX_CHECKS_PER_RUN {
                    tracing::warn!(label = %row.label, "could not check with Twilio ({why}); parked for the next run");
                    self.store.postpone_unresolved(&row, now_ms(), &why).await?;
                    checks.parked.insert(row.row_id);
                } else {
                    let delay = retry::delay(&self.campaign.retry, *tries, after);
                    self.store
                        .postpone_unresolved(&row, now_ms() + delay.as_millis() as i64, &why)
                        .await?;
                }
            }
            Resolution::Unreachable(why) => {
                tracing::warn!(label = %row.label, "could not reach Twilio to check ({why}); parked for the next run");
                self.store.postpone_unresolved(&row, now_ms(), &why).await?;
                checks.parked.insert(row.row_id);
            }
            Resolution::Abort(why) => self.stop.trigger(StopReason::Abort(why)),
        }
        Ok(())
    }

    fn dial_task(&self) -> DialTask {
        DialTask {
            adaptive: self.adaptive.clone(),
            campaign: self.campaign.clone(),
            store: self.store.clone(),
            client: self.client.clone(),
            stop: self.stop.clone(),
            progress: self.progress.clone(),
        }
    }
}

struct DialTask {
    adaptive: Option<Arc<Adaptive>>,
    campaign: Campaign,
    store: Store,
    client: TwilioClient,
    stop: Stop,
    progress: Arc<Progress>,
}

impl DialTask {
    async fn dial(self, claimed: Claimed) {
        let span = tracing::info_span!("dial", label = %claimed.label, attempt = claimed.attempt);
        self.dial_in_span(claimed).instrument(span).await;
    }

    async fn dial_in_span(self, claimed: Claimed) {
        let outcome = match build_request(&self.campaign, &claimed) {
            Ok((conference, request)) => {
                let answer = self.client.create_participant(&conference, &request).await;
                if let Ok(p) = &answer
                    && let (ConferenceTarget::FriendlyName(name), Some(sid)) =
                        (&conference, &p.conference_sid)
                    && let Err(e) = self.store.remember_conference(name, sid).await
                {
                    tracing::warn!("could not remember the conference SID: {e}");
                }
                self.outcome(&claimed, answer)
            }
            // The row was valid at import; the campaign's defaults may have changed since.
            Err(e) => Outcome::Failed {
                http_status: None,
                code: None,
                message: e.to_string(),
            },
        };
        self.progress.record(&outcome);
        if let Err(e) = self.store.record(&claimed, &outcome).await {
            tracing::error!("could not record the outcome: {e}");
            self.stop.trigger(StopReason::Storage(e.to_string()));
        }
    }

    fn outcome(
        &self,
        claimed: &Claimed,
        answer: Result<crate::twilio::Participant, ApiError>,
    ) -> Outcome {
        if let Some(adaptive) = &self.adaptive {
            match &answer {
                Ok(p) => adaptive.created(p.queue_time_ms()),
                Err(e)
                    if e.code() == Some(CODE_TOO_MANY_REQUESTS) || e.http_status() == Some(429) =>
                {
                    adaptive.too_many_requests()
                }
                Err(_) => {}
            }
        }
        let error = match answer {
            Ok(p) => {
                return Outcome::Created {
                    queue_time_ms: p.queue_time_ms().map(|q| q as i64),
                    call_sid: p.call_sid.unwrap_or_default(),
                    conference_sid: p.conference_sid,
                    status: 201,
                };
            }
            Err(e) => e,
        };
        let (http_status, code, message) = (error.http_status(), error.code(), error.to_string());
        match error.disposition() {
            Disposition::Retry { after } => {
                // Twilio's concurrency limit and a full conference say nothing about the row.
                let counts = !matches!(code, Some(CODE_TOO_MANY_REQUESTS | CODE_CONFERENCE_FULL))
                    && http_status != Some(429);
                let failures = claimed.failures as u32 + u32::from(counts);
                if counts && failures >= self.campaign.max_attempts {
                    let message = format!("gave up after {failures} attempts: {message}");
                    return Outcome::Failed {
                        http_status,
                        code,
                        message,
                    };
                }
                let delay = retry::delay(&self.campaign.retry, failures.max(1), after);
                Outcome::Retry {
                    at: now_ms() + delay.as_millis() as i64,
                    counts,
                    http_status,
                    code,
                    message,
                }
            }
            Disposition::Fail => Outcome::Failed {
                http_status,
                code,
                message,
            },
            Disposition::Abort => {
                self.stop.trigger(StopReason::Abort(message.clone()));
                Outcome::Retry {
                    at: now_ms(),
                    counts: false,
                    http_status,
                    code,
                    message,
                }
            }
            Disposition::Unknown => {
                tracing::warn!("{message}; will check with Twilio before any re-dial");
                let check_at = now_ms() + self.campaign.retry.reconcile_after.as_millis() as i64;
                Outcome::Unknown {
                    check_at,
                    http_status,
                    code,
                    message,
                }
            }
        }
    }
}

/// The request for a row: its own columns over the campaign's defaults.
pub fn build_request(
    campaign: &Campaign,
    row: &Claimed,
) -> Result<(ConferenceTarget, CreateParticipant), ParamError> {
    row_request(campaign, &row.to, &row.label, &row.params)
}

pub fn row_request(
    campaign: &Campaign,
    to: &str,
    label: &str,
    params: &str,
) -> Result<(ConferenceTarget, CreateParticipant), ParamError> {
    let own: BTreeMap<String, String> = serde_json::from_str(params).map_err(|e| {
        ParamError::new(
            "row",
            crate::domain::Invalid(format!("stored parameters unreadable: {e}")),
        )
    })?;
    let mut options = crate::twilio::ParticipantOptions::default();
    let mut from = campaign.from.clone();
    let mut conference = campaign.conference.clone();
    for (key, value) in &own {
        match key.as_str() {
            "from" => from = Caller::parse(value).map_err(|e| ParamError::new("From", e))?,
            "conference" => {
                conference =
                    ConferenceTarget::parse(value).map_err(|e| ParamError::new("conference", e))?
            }
            _ => options.set(key, value)?,
        }
    }
    options.label = Some(Label::parse(label).map_err(|e| ParamError::new("Label", e))?);
    let to = Endpoint::parse(to).map_err(|e| ParamError::new("To", e))?;
    let request = CreateParticipant::new(from, to, options.or_defaults(&campaign.defaults))?;
    Ok((conference, request))
}
