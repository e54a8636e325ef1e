//! The dial loop. For each due row: wait for a pacing slot and an in-flight permit, claim the
//! row (its attempt is committed before the request leaves), send Create Participant, record
//! the outcome. Rows whose outcome is unknown are reconciled with Twilio before any re-dial,
//! by checks that run beside the dialing so that a batch of them does not stall the pace;
//! without a callback receiver, how older calls ended is asked beside the dialing too.
//!
//! `pace` gives the slots, `claims` takes due rows a few at a time, `held` applies the gate's answer and waits for a row's slot (and says
//! what a stop does to a row waiting there), `breaker` holds every request while Twilio cannot
//! be reached, `send` makes one request, `reconcile` judges a row in doubt, `polls` asks how
//! calls ended, `conferences` keeps the conference SIDs already stored; `request` and `retry`
//! are the rules they share; `outage` waits for a shared database, not for Twilio.

pub mod breaker;
mod claims;
mod conferences;
mod held;
mod leases;
mod outage;
pub mod pace;
mod polls;
pub mod progress;
pub mod reconcile;
pub mod request;
pub mod retry;
mod send;

use crate::compliance::gate::Gate;
use crate::config::Campaign;
use crate::metrics::CampaignMetrics;
use crate::stop::{Stop, StopReason};
use crate::store::{Store, StoreError};
use crate::twilio::TwilioClient;
use breaker::{Breaker, Pass};
use claims::Ahead;
use conferences::KnownConferences;
use outage::Outage;
use pace::Pacer;
use pace::adaptive::Adaptive;
use pace::in_flight::InFlightLimit;
use polls::Polls;
use progress::Progress;
use reconcile::checks::Checks;
use send::DialTask;
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

/// The dial loop and what every request it sends shares: cheap to clone (a dial holds one).
#[derive(Clone)]
pub struct Engine {
    campaign: Arc<Campaign>,
    store: Store,
    client: TwilioClient,
    pacer: Arc<Pacer>,
    /// Open while Twilio cannot be reached: shared by every run on the account.
    breaker: Arc<Breaker>,
    gate: Arc<Gate>,
    /// Present when the campaign's pacing adapts to what Twilio's answers show.
    adaptive: Option<Arc<Adaptive>>,
    /// Creates allowed in flight (lowered by Twilio's 20429s when pacing adapts).
    in_flight: Arc<InFlightLimit>,
    stop: Stop,
    progress: Arc<Progress>,
    metrics: CampaignMetrics,
    /// The conference SIDs this run has stored, so each is written once.
    conferences: Arc<KnownConferences>,
}

/// What the dial loop carries from one turn to the next.
struct Dialing {
    permits: Arc<Semaphore>,
    ahead: Ahead,
    in_flight: JoinSet<()>,
    checks: Checks,
    polls: Polls,
}

enum Flow {
    Next,
    Done,
}

/// Idle wait when nothing is due but rows are still in flight or waiting for a retry.
pub(super) const IDLE_POLL: Duration = Duration::from_millis(50);
/// How often the rows' states are counted for the metrics during a run.
const COUNT_ROWS_EVERY: Duration = Duration::from_secs(5);

impl Engine {
    /// The engine for one run of `campaign`: paced at the account's CPS (shared with every
    /// other run on this account), adapting to Twilio's answers when the campaign says so.
    pub fn new(
        campaign: Arc<Campaign>,
        store: Store,
        client: TwilioClient,
        gate: Gate,
        stop: Stop,
        progress: Arc<Progress>,
    ) -> Self {
        let account = client.credentials().account();
        let metrics = campaign.metrics(account);
        progress.report_to(metrics.clone());
        let pacer = Pacer::for_account(
            account,
            client.api_base(),
            campaign.cps,
            store.account_schedule(account),
        );
        let breaker = Breaker::for_account(account, client.api_base());
        let in_flight = Arc::new(InFlightLimit::new(
            campaign.max_in_flight,
            campaign.rules.adaptive_pacing,
        ));
        let adaptive = campaign
            .rules
            .adaptive_pacing
            .then(|| Adaptive::new(pacer.clone(), in_flight.clone()));
        Self {
            campaign,
            store,
            client,
            pacer,
            breaker,
            gate: Arc::new(gate),
            adaptive,
            in_flight,
            stop,
            progress,
            metrics,
            conferences: Arc::default(),
        }
    }

    /// This campaign's metrics.
    pub fn metrics(&self) -> &CampaignMetrics {
        &self.metrics
    }

    /// Dials every due row until none is left or the run is stopped.
    pub async fn run(&self) -> Result<Ending, StoreError> {
        let adapting = self.adaptive.as_ref().map(|adaptive| {
            let progress = self.progress.clone();
            adaptive.spawn(move |held| progress.set_held(held.rate, held.in_flight_cap))
        });
        let leasing = self
            .store
            .is_shared()
            .then(|| tokio::spawn(self.clone().keep_leases()));
        let counting = crate::metrics::exported().then(|| tokio::spawn(self.clone().count_rows()));
        let ending = self.dial_every_due_row().await;
        for task in adapting.into_iter().chain(leasing).chain(counting) {
            task.abort();
        }
        if crate::metrics::exported() {
            self.count_rows_once().await;
        }
        ending
    }

    /// Keeps the metrics' row counts (and the host clock's offset) fresh while the run dials.
    async fn count_rows(self) {
        let mut every = tokio::time::interval(COUNT_ROWS_EVERY);
        loop {
            every.tick().await;
            self.count_rows_once().await;
        }
    }

    async fn count_rows_once(&self) {
        self.metrics
            .host_clock_ahead(self.client.clock().host_ahead_ms());
        match self.store.state_counts().await {
            Ok(counts) => self.metrics.rows(&counts),
            Err(e) => tracing::debug!("could not count the rows for the metrics: {e}"),
        }
    }

    async fn dial_every_due_row(&self) -> Result<Ending, StoreError> {
        let mut outage = Outage::default();
        while let Err(e) = self.recover().await {
            outage.wait_out(self, e).await?;
            if self.stop.is_set() {
                return Ok(self.ending());
            }
        }
        let mut dialing = Dialing {
            permits: Arc::new(Semaphore::new(self.campaign.max_in_flight)),
            ahead: Ahead::default(),
            in_flight: JoinSet::new(),
            checks: Checks::default(),
            polls: self.polls(),
        };
        loop {
            match self.step(&mut dialing).await {
                Ok(Flow::Next) => outage.over(),
                Ok(Flow::Done) => break,
                Err(e) => {
                    outage.wait_out(self, e).await?;
                    if self.stop.is_set() {
                        break;
                    }
                }
            }
        }
        let Dialing {
            mut ahead,
            mut in_flight,
            mut checks,
            mut polls,
            ..
        } = dialing;
        if let Err(e) = self.release_ahead(&mut ahead).await {
            // Rows left claimed are taken over once their lease runs out (or at the next
            // run on SQLite), and checked with Twilio before any re-dial.
            outage.wait_out(self, e).await?;
        }
        if let Err(e) = self.settle_all(&mut checks).await {
            // Rows whose check is lost stay in doubt, for the next run or another host.
            outage.wait_out(self, e).await?;
        }
        self.settle_all_polls(&mut polls).await;
        while in_flight.join_next().await.is_some() {}
        if !checks.parked.is_empty() {
            // Rows left in doubt only because Twilio could not be asked: not failures.
            let why = format!(
                "{} rows in doubt could not be checked with Twilio",
                checks.parked.len()
            );
            self.stop.trigger(StopReason::TwilioUnreachable(why));
        }
        Ok(self.ending())
    }

    fn ending(&self) -> Ending {
        match self.stop.reason() {
            Some(reason) => Ending::Stopped(reason),
            None => Ending::Finished,
        }
    }

    /// One turn of the dial loop: settle what finished, start checks and polls, then take a
    /// claimed row (`claims`), admit, pace and send it (or idle when none is due).
    async fn step(&self, d: &mut Dialing) -> Result<Flow, StoreError> {
        while d.in_flight.try_join_next().is_some() {}
        self.settle_finished(&mut d.checks).await?;
        self.settle_polls(&mut d.polls);
        if self.stop.is_set() && !self.sends_claimed_ahead(&d.ahead) {
            return Ok(Flow::Done);
        }
        // While Twilio is unreachable nothing is sent but the probe, one at a time.
        let pass = self.breaker.pass(tokio::time::Instant::now());
        let outage = self.breaker.outage();
        if let Some(why) = outage.as_ref().and_then(|o| self.outlasted(o)) {
            self.stop.trigger(StopReason::TwilioUnreachable(why));
            return Ok(Flow::Done);
        }
        self.progress.set_outage(outage);
        if let Pass::Wait { .. } = pass {
            self.idle(IDLE_POLL, &mut d.in_flight, &mut d.checks, &mut d.polls)
                .await?;
            return Ok(Flow::Next);
        }
        let probing = pass == Pass::Probe;
        self.start_checks(&d.permits, &mut d.checks, probing)
            .await?;
        if !probing {
            self.start_polls(&d.permits, &mut d.polls).await?;
        }
        // Twilio's concurrency limit answered 20429: fewer creates in flight.
        while d.in_flight.len() >= self.in_flight_limit() {
            d.in_flight.join_next().await;
        }
        let Ok(permit) = d.permits.clone().acquire_owned().await else {
            return Ok(Flow::Done);
        };
        let Some(claimed) = self.next_claimed(&mut d.ahead).await? else {
            drop(permit);
            if d.in_flight.is_empty()
                && d.checks.running.is_empty()
                && self.nothing_left(&d.checks).await?
            {
                return Ok(Flow::Done);
            }
            let wait = d.ahead.idle_wait();
            self.idle(wait, &mut d.in_flight, &mut d.checks, &mut d.polls)
                .await?;
            return Ok(Flow::Next);
        };
        // The attempt is on disk but nothing is sent yet: the gate may still hold it back.
        if !self.admitted(&claimed).await? {
            return Ok(Flow::Next);
        }
        if !self.paced(&claimed).await? {
            return Ok(Flow::Done);
        }
        let dialer = DialTask {
            engine: self.clone(),
            concurrent: d.in_flight.len() + 1,
        };
        d.in_flight.spawn(
            async move {
                dialer.dial(claimed).await;
                drop(permit);
            }
            .in_current_span(),
        );
        Ok(Flow::Next)
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
        let orphans = self
            .store
            .mark_orphans_unknown(self.client.request_timeout())
            .await?;
        if orphans > 0 {
            tracing::warn!(
                rows = orphans,
                "an earlier run stopped mid-request; checking those rows with Twilio before any re-dial"
            );
        }
        Ok(())
    }

    /// Why the run stops, if an outage has lasted longer than the campaign waits for one (a
    /// worker waits on).
    fn outlasted(&self, outage: &breaker::Outage) -> Option<String> {
        let limit = self.campaign.retry.outage_limit?;
        (outage.lasted > limit).then(|| outage.outlasted(limit))
    }

    /// Create requests allowed in flight now.
    pub(super) fn in_flight_limit(&self) -> usize {
        self.in_flight.limit().min(self.campaign.max_in_flight)
    }

    /// Called with nothing in flight, so no row of this run is `dialing` or being checked.
    async fn nothing_left(&self, checks: &Checks) -> Result<bool, StoreError> {
        // Recycled rows wait for a later run; retries are waited for, and so are rows other
        // hosts are dialing (taken over if their lease runs out).
        let left = self.store.left().await?;
        Ok(left.next_retry_at.is_none()
            && left.unknown as usize <= checks.parked.len()
            && left.dialing_elsewhere == 0)
    }

    async fn idle(
        &self,
        wait: Duration,
        in_flight: &mut JoinSet<()>,
        checks: &mut Checks,
        polls: &mut Polls,
    ) -> Result<(), StoreError> {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = in_flight.join_next(), if !in_flight.is_empty() => {}
            Some(done) = polls.running.join_next(), if !polls.running.is_empty() => {
                self.settle_poll(done);
            }
            Some(done) = checks.running.join_next(), if !checks.running.is_empty() => {
                if let Ok(settled) = done {
                    self.settle_each(checks, settled).await?;
                }
            }
            _ = self.stop.wait() => {}
        }
        Ok(())
    }
}
