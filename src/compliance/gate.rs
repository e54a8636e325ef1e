//! The last check before a claimed row is dialed: may this person be called now? A paused or
//! canceled campaign dials nobody, a number on a do-not-call list is never dialed, and a
//! person is called only inside the calling window of their own time zone.
//!
//! A row's zone may be several (a prefix spanning zones): it is called only when the window
//! is open in every one, and otherwise waits for the first instant when all are.
//!
//! A zone found closed is deferred as a whole, in one statement, to its next opening: a
//! million rows outside their window cost one claim per zone, not one each. A watcher reads
//! `control` once a second, and stops the run when every row left waits for a window.

use super::frequency;
use super::suppression::{SuppressionError, SuppressionLists};
use super::window::{WindowNow, local_time, window_now_everywhere};
use crate::config::Campaign;
use crate::config::rules::{CallingWindow, FrequencyCap};
use crate::domain::{CalleeZones, CampaignStatus, Hold};
use crate::stop::{Stop, StopReason};
use crate::store::{Claimed, Store, StoreError};
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
    window: Option<CallingWindow>,
    frequency: Option<FrequencyCap>,
    suppression: Arc<SuppressionLists>,
    state: Arc<Shared>,
    _watcher: Arc<Watcher>,
}

/// What the gate and its watcher share.
#[derive(Debug)]
struct Shared {
    /// The campaign's status, and when it was read (store ms): by the watcher, or with a claim.
    status: Mutex<(CampaignStatus, i64)>,
    /// Closed zones (`None`: the campaign's) and when each opens next (unix ms).
    openings: Mutex<HashMap<Option<CalleeZones>, i64>>,
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
        let suppression =
            SuppressionLists::load(&campaign.rules.suppression, campaign.default_region)?;
        let marked = suppression.mark_pending(store).await?;
        if marked > 0 {
            tracing::info!(
                rows = marked,
                "numbers on a do-not-call list are suppressed"
            );
        }
        let state = Arc::new(Shared {
            status: Mutex::new((CampaignStatus::Running, i64::MIN)),
            openings: Mutex::new(HashMap::new()),
            cap_releases: Mutex::new(BTreeSet::new()),
        });
        let window = campaign.rules.window.clone();
        if let Some(window) = &window {
            for zone in store.pending_timezones().await? {
                state.defer_if_closed(store, window, zone).await?;
            }
        }
        state.watch_once(store, stop).await?;
        let watcher = tokio::spawn(watch(state.clone(), store.clone(), stop.clone()));
        Ok(Self {
            window,
            frequency: campaign.rules.frequency,
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
        let Some(window) = &self.window else {
            return self.capped(store, claimed).await;
        };
        let zone = claimed.zones.clone();
        let Some(closed) = self.state.defer_if_closed(store, window, zone).await? else {
            return self.capped(store, claimed).await;
        };
        let opens = closed.opening();
        tracing::info!(
            zone = closed.name.as_ref().map_or("campaign", CalleeZones::as_str),
            rows = closed.rows + 1,
            "outside the calling window; deferred until {opens}"
        );
        Ok(Admission::Defer {
            until_ms: closed.until.as_millisecond(),
            reason: format!("outside the calling window; opens {opens}"),
            hold: Some(Hold::Window),
        })
    }
}

impl Gate {
    /// Dial, unless the frequency cap holds the person back.
    async fn capped(&self, store: &Store, claimed: &Claimed) -> Result<Admission, StoreError> {
        let Some(cap) = &self.frequency else {
            return Ok(Admission::Dial);
        };
        let Some(until_ms) = frequency::held_until(cap, store, claimed, store.now_ms()).await?
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
            reason: format!(
                "held back by the frequency cap ({} within {:#}) until {until:.0}",
                match cap.max_calls {
                    1 => "1 call".to_owned(),
                    n => format!("{n} calls"),
                },
                jiff::SignedDuration::try_from(cap.within).unwrap_or(jiff::SignedDuration::MAX),
            ),
            hold: Some(Hold::FrequencyCap),
        })
    }
}

/// A zone found closed, and what was done about it.
struct Closed {
    /// The row's zones (`None`: the campaign's).
    name: Option<CalleeZones>,
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

    /// When the window is closed in `zone` (`None`: the campaign's), defers every pending
    /// row of that zone to its next opening and remembers that opening.
    async fn defer_if_closed(
        &self,
        store: &Store,
        window: &CallingWindow,
        zone: Option<CalleeZones>,
    ) -> Result<Option<Closed>, StoreError> {
        let mut zones = zone.as_ref().map_or_else(Vec::new, |z| z.zones().to_vec());
        // No zone of its own, or none still known (`CalleeZones::from_stored`): the campaign's.
        if zones.is_empty() {
            zones.push(window.timezone.clone());
        }
        // The store's clock reads a time well inside jiff's range.
        let now = Timestamp::from_millisecond(store.now_ms()).unwrap_or(Timestamp::UNIX_EPOCH);
        let until = match window_now_everywhere(window, &zones, now) {
            WindowNow::Open => return Ok(None),
            WindowNow::OpensAt(at) => at,
            WindowNow::Never => now + NEVER_OPEN_RECHECK,
        };
        let rows = store
            .defer_zone(zone.as_ref(), until.as_millisecond())
            .await?;
        let mut openings = self.openings.lock().unwrap_or_else(|e| e.into_inner());
        openings.insert(zone.clone(), until.as_millisecond());
        Ok(Some(Closed {
            name: zone,
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

async fn watch(state: Arc<Shared>, store: Store, stop: Stop) {
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        if let Err(e) = state.watch_once(&store, &stop).await {
            tracing::warn!("could not read the campaign's status: {e}");
        }
    }
}
