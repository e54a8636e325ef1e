//! The last check before a claimed row is dialed: may this person be called now? A paused or
//! canceled campaign dials nobody, a number on a do-not-call list or that opted out (read
//! with its claim) is never dialed, and a person is called only inside the calling window of
//! their own time zone and, for a US number of a telemarketing campaign, the law's hours where
//! they are (`schedule`), and under every cap on calls to them (`frequency`).
//!
//! A row's zone may be several (a prefix spanning zones): it is called only when the hours
//! are open in every one, and otherwise waits for the first instant when all are.
//!
//! Rows are grouped by zone and jurisdictions: a group found closed is deferred as a whole, in
//! one statement, to its next opening: a million rows outside their hours cost one claim per
//! group, not one each. A watcher reads `control` once a second, and stops the run when
//! every row left waits for a window.

use super::frequency;
use super::schedule::{Hours, Schedule};
use super::suppression::{SuppressionError, SuppressionLists};
use super::window::local_time;
use crate::config::Campaign;
use crate::config::rules::{FrequencyCap, Law};
use crate::domain::{CampaignStatus, Hold};
use crate::stop::{Stop, StopReason};
use crate::store::{Claimed, RowGroup, Store, StoreError};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often a run reads `control` and looks for windows that have all closed.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// How long a zone waits when the window has no days at all (the campaign file may change).
const NEVER_OPEN_RECHECK: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// What to do with a claimed row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Dial,
    /// Not now: pending again from `until_ms` (unix ms), held by a window or the cap, or
    /// (`None`) only until the campaign is resumed.
    Defer {
        until_ms: i64,
        reason: String,
        hold: Option<Hold>,
    },
    /// Never: the number is on a do-not-call list.
    Suppress {
        reason: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error(transparent)]
    Suppression(#[from] SuppressionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone)]
pub struct Gate {
    schedule: Arc<Schedule>,
    frequency: Vec<FrequencyCap>,
    law: Law,
    suppression: Arc<SuppressionLists>,
    state: Arc<Shared>,
    _watcher: Arc<Watcher>,
}

/// What the gate and its watcher share.
#[derive(Debug)]
struct Shared {
    /// The campaign's status, and when it was read (store ms): by the watcher, or with a claim.
    status: Mutex<(CampaignStatus, i64)>,
    /// Closed groups and when each opens next (unix ms).
    openings: Mutex<HashMap<RowGroup, i64>>,
    /// When rows the frequency cap held back may be called (unix ms).
    cap_releases: Mutex<BTreeSet<i64>>,
}

/// The watcher task, ended with the gate.
#[derive(Debug)]
struct Watcher(tokio::task::JoinHandle<()>);

impl Drop for Watcher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Gate {
    /// Called after the import: reads the do-not-call lists and marks the listed pending rows,
    /// applies a pause or cancel, defers every zone that is closed now, then starts watching.
    pub async fn open(campaign: &Campaign, store: &Store, stop: &Stop) -> Result<Self, GateError> {
        let suppression = SuppressionLists::load(
            &campaign.rules.suppression,
            campaign.default_region,
            store.now_ms(),
        )?;
        let marked = suppression.mark_pending(store).await?;
        if marked > 0 {
            tracing::info!(
                rows = marked,
                "numbers on a do-not-call list are suppressed"
            );
        }
        let opted_out = store.suppress_opted_out().await?;
        if opted_out > 0 {
            tracing::info!(rows = opted_out, "numbers that opted out are suppressed");
        }
        let persons = store.suppress_persons_of_suppressed().await?;
        if persons > 0 {
            tracing::info!(
                rows = persons,
                "other numbers of people suppressed are suppressed"
            );
        }
        let state = Arc::new(Shared {
            status: Mutex::new((CampaignStatus::Running, i64::MIN)),
            openings: Mutex::new(HashMap::new()),
            cap_releases: Mutex::new(BTreeSet::new()),
        });
        let schedule = Arc::new(Schedule::new(
            campaign.rules.window.clone(),
            campaign.rules.law,
        ));
        fill_in_jurisdictions(store).await?;
        if !schedule.is_empty() {
            for group in store.pending_groups().await? {
                state.defer_if_closed(store, &schedule, group).await?;
            }
        }
        state.watch_once(store, stop).await?;
        let watcher = tokio::spawn(watch(state.clone(), store.clone(), stop.clone()));
        Ok(Self {
            schedule,
            frequency: campaign.rules.frequency.clone(),
            law: campaign.rules.law,
            suppression: Arc::new(suppression),
            state,
            _watcher: Arc::new(Watcher(watcher)),
        })
    }

    pub async fn admit(&self, store: &Store, claimed: &Claimed) -> Result<Admission, StoreError> {
        let status = self
            .state
            .saw_status(claimed.campaign_status, claimed.started_at);
        if status != CampaignStatus::Running {
            let reason = format!("the campaign is {}", status.as_str());
            return Ok(Admission::Defer {
                until_ms: store.now_ms(),
                reason,
                hold: None,
            });
        }
        if let Some(reason) = self.suppression.reason_for(&claimed.to) {
            let reason = reason.to_owned();
            return Ok(Admission::Suppress { reason });
        }
        if let Some(source) = claimed.opted_out {
            let reason = source.reason().to_owned();
            return Ok(Admission::Suppress { reason });
        }
        if self.schedule.is_empty() {
            return self.capped(store, claimed).await;
        }
        // As stored: the statement that defers the group finds its rows by these values.
        let group = RowGroup {
            zones: claimed.zones.clone(),
            jurisdictions: claimed.jurisdictions.clone(),
        };
        let Some(closed) = self
            .state
            .defer_if_closed(store, &self.schedule, group)
            .await?
        else {
            return self.capped(store, claimed).await;
        };
        let opens = closed.opening();
        let why = &closed.why;
        tracing::info!(
            zone = closed
                .group
                .zones
                .as_ref()
                .map_or("campaign", |z| z.as_str()),
            jurisdictions = closed
                .group
                .jurisdictions
                .as_ref()
                .map_or("", |j| j.as_str()),
            rows = closed.rows + 1,
            "{why}; deferred until {opens}"
        );
        Ok(Admission::Defer {
            until_ms: closed.until.as_millisecond(),
            reason: format!("{why}; opens {opens}"),
            hold: Some(Hold::Window),
        })
    }
}

impl Gate {
    /// Dial, unless a cap on calls to the person holds them back.
    async fn capped(&self, store: &Store, claimed: &Claimed) -> Result<Admission, StoreError> {
        let jurisdictions = jurisdictions_of(claimed);
        let caps = frequency::caps_for(&self.frequency, self.law, jurisdictions.as_ref());
        let Some((until_ms, cap)) =
            frequency::held_until(&caps, store, claimed, store.now_ms()).await?
        else {
            return Ok(Admission::Dial);
        };
        self.state
            .cap_releases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(until_ms);
        let until = Timestamp::from_millisecond(until_ms).unwrap_or(Timestamp::MAX);
        Ok(Admission::Defer {
            until_ms,
            reason: format!("held back by {} until {until:.0}", cap.describe()),
            hold: Some(Hold::FrequencyCap),
        })
    }
}

/// A group found closed, and what was done about it.
struct Closed {
    group: RowGroup,
    /// Which hours held it: "outside the calling window", "outside Florida's …".
    why: String,
    /// The zones in force, in the order stored.
    zones: Vec<TimeZone>,
    until: Timestamp,
    /// Pending rows deferred with it (besides a claimed row).
    rows: u64,
}

impl Closed {
    /// The opening as the first zone's clock shows it, and how many other zones it spans.
    fn opening(&self) -> String {
        let first = local_time(self.until, &self.zones[0]);
        match self.zones.len() {
            1 => first,
            2 => format!("{first} (and 1 other zone)"),
            n => format!("{first} (and {} other zones)", n - 1),
        }
    }
}

impl Shared {
    /// The status read at `at` (store ms), kept unless a later reading is already there (a row
    /// admitted again after a wait carries its claim's older reading); returns the latest.
    fn saw_status(&self, status: CampaignStatus, at: i64) -> CampaignStatus {
        let mut latest = self.status.lock().unwrap_or_else(|e| e.into_inner());
        if at >= latest.1 {
            *latest = (status, at);
        }
        latest.0
    }

    /// When the hours binding `group` are closed, defers every pending row of that group to
    /// their next opening and remembers that opening.
    async fn defer_if_closed(
        &self,
        store: &Store,
        schedule: &Schedule,
        group: RowGroup,
    ) -> Result<Option<Closed>, StoreError> {
        // The store's clock reads a time well inside jiff's range.
        let now = Timestamp::from_millisecond(store.now_ms()).unwrap_or(Timestamp::UNIX_EPOCH);
        let (until, why, zones) = match schedule.now(&group, now) {
            Hours::Open => return Ok(None),
            Hours::Closed { until, rule, zones } => (until, rule.outside(), zones),
            Hours::Never { rule } => {
                let (_, zones) = schedule.rules_for(&group);
                (now + NEVER_OPEN_RECHECK, rule.outside(), zones)
            }
        };
        let rows = store.defer_group(&group, until.as_millisecond()).await?;
        let mut openings = self.openings.lock().unwrap_or_else(|e| e.into_inner());
        openings.insert(group.clone(), until.as_millisecond());
        Ok(Some(Closed {
            group,
            why,
            zones,
            until,
            rows,
        }))
    }

    /// Reads the campaign's status and stops the run when it is paused or canceled, or when
    /// no pending row is due before the next opening of a closed zone.
    async fn watch_once(&self, store: &Store, stop: &Stop) -> Result<(), StoreError> {
        let now = store.now_ms();
        let (seen, seen_at) = *self.status.lock().unwrap_or_else(|e| e.into_inner());
        // A run that dials reads the status with every claim: the watcher reads it itself only
        // when no claim has in the last interval.
        let status = if now.saturating_sub(seen_at) < WATCH_EVERY.as_millis() as i64 {
            seen
        } else {
            let read = store.recent_campaign_status(WATCH_EVERY).await?;
            self.saw_status(read, now)
        };
        match status {
            CampaignStatus::Running => {}
            CampaignStatus::Paused => stop.trigger(StopReason::Paused),
            CampaignStatus::Canceled => {
                // Rows imported since the cancel are canceled too.
                store.cancel_campaign().await?;
                stop.trigger(StopReason::Canceled);
            }
        }
        // Rows wait for a window to open or for the cap to let them through: whichever comes
        // first is when the run would have something to dial again.
        let next_opening = {
            let openings = self.openings.lock().unwrap_or_else(|e| e.into_inner());
            let mut releases = self.cap_releases.lock().unwrap_or_else(|e| e.into_inner());
            releases.retain(|at| *at > now);
            let window = openings.values().copied().filter(|at| *at > now).min();
            window.into_iter().chain(releases.first().copied()).min()
        };
        if let Some(opening) = next_opening
            && let Some(next_due) = store.next_pending_at().await?
            && next_due > now
            && next_due >= opening
        {
            stop.trigger(StopReason::WindowClosed);
        }
        Ok(())
    }
}

/// Whose caps bind a claimed row: as stored, or (a row imported by an older dialer beside
/// this one, not filled in yet) its number's.
fn jurisdictions_of(claimed: &Claimed) -> Option<crate::domain::Jurisdictions> {
    claimed
        .jurisdictions
        .clone()
        .or_else(|| crate::law::by_area_code(&claimed.to))
}

/// Rows imported before their jurisdictions were kept get them from their numbers (a list's
/// `state` column was not read then), a page at a time: once per campaign.
pub async fn fill_in_jurisdictions(store: &Store) -> Result<(), StoreError> {
    const PAGE: i64 = 5_000;
    loop {
        let rows = store.rows_without_jurisdictions(PAGE).await?;
        if rows.is_empty() {
            return Ok(());
        }
        let found: Vec<_> = rows
            .iter()
            .map(|(id, to)| (*id, crate::law::by_area_code(to)))
            .collect();
        store.assign_jurisdictions(&found).await?;
    }
}

async fn watch(state: Arc<Shared>, store: Store, stop: Stop) {
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        if let Err(e) = state.watch_once(&store, &stop).await {
            tracing::warn!("could not read the campaign's status: {e}");
        }
    }
}
