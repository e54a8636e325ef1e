//! The numbers of a campaign report, built from the campaign database: counts, attempts,
//! queue_time percentiles, failures, rate, and the lines without a call.

use super::dialing_time::{IDLE_GAP_MS, created_per_sec, dialing_secs};
use super::law::LawApplied;
use super::reason::{Circumstances, requeue_history, utc, why_not_created};
use super::runs::RunLine;
use crate::config::rules::Rules;
use crate::dialing::progress::percentile;
use crate::domain::{Cps, LineState, Standing};
use crate::store::{CallOutcomes, FailureGroup, StateCounts, Store, StoreError, ZoneSources};
use serde::Serialize;
use std::collections::BTreeMap;

/// Everything `dialer report` says; the `report` module's documentation lists its JSON fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignReport {
    pub campaign: String,
    /// Active, paused, canceled, or done (nothing left to dial or to check).
    pub status: Standing,
    pub configured_cps: u32,
    pub rows: u64,
    pub states: StateCounts,
    /// How many rows got their callee zone from the list, the number's prefix, the campaign.
    pub zone_sources: ZoneSources,
    pub law: Option<LawApplied>,
    pub attempts: Attempts,
    pub calls: CallOutcomes,
    pub queue_time_ms: Option<QueueTimes>,
    pub failures: Vec<FailureGroup>,
    pub first_attempt_at: Option<String>,
    pub last_created_at: Option<String>,
    /// Time spent dialing: the spells with requests, the idle time between them left out.
    pub duration_secs: Option<f64>,
    pub dialing_spells: u64,
    pub achieved_cps: Option<f64>,
    pub runs: Vec<RunLine>,
    pub opted_out: OptedOut,
    pub not_dialed: Vec<NotDialed>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Attempts {
    pub total: u64,
    pub by_outcome: BTreeMap<String, u64>,
}

/// Rows never dialed because their number opted out (`dialer optout`, `POST /optouts`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct OptedOut {
    pub rows: u64,
    /// The longest time from an opt-out's record to its row's suppression.
    pub longest_to_honour_secs: Option<f64>,
}

/// Nearest-rank percentiles of the created calls' queue_time, in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QueueTimes {
    pub p50: i64,
    pub p95: i64,
    pub p99: i64,
    pub max: i64,
}

/// A list line without a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotDialed {
    pub line: u64,
    pub to: String,
    pub label: String,
    pub state: LineState,
    pub reason: String,
    /// The row's requeues, when it was put back (`dialer campaign requeue`).
    pub requeued: Option<String>,
}

impl NotDialed {
    /// The reason, followed by the row's requeues when it has any.
    pub fn reason_and_history(&self) -> String {
        match &self.requeued {
            Some(requeued) => format!("{}; {requeued}", self.reason),
            None => self.reason.clone(),
        }
    }
}

impl CampaignReport {
    pub async fn build(
        store: &Store,
        campaign: &str,
        configured_cps: Cps,
        rules: Option<&Rules>,
    ) -> Result<Self, StoreError> {
        let now = Circumstances::read(store, rules).await?;
        let states = store.state_counts().await?;
        let attempt_counts = store.attempt_counts().await?;
        let failures = store.failure_groups().await?;
        let not_dialed = store
            .export_rows()
            .await?
            .into_iter()
            .filter_map(|row| {
                let reason = why_not_created(&row, &now)?;
                let requeued = requeue_history(&row);
                Some(NotDialed {
                    line: row.line,
                    to: row.to,
                    label: row.label,
                    state: row.state,
                    reason,
                    requeued,
                })
            })
            .collect();
        let spells = store.creating_spans(IDLE_GAP_MS).await?;
        let duration_secs = dialing_secs(&spells, configured_cps);
        Ok(Self {
            campaign: campaign.to_owned(),
            status: Standing::of(now.status, states.pending + states.dialing + states.unknown),
            configured_cps: configured_cps.get().get(),
            rows: states.rows(),
            attempts: Attempts {
                total: attempt_counts.attempts,
                by_outcome: attempt_counts.by_outcome.into_iter().collect(),
            },
            calls: store.call_outcomes().await?,
            queue_time_ms: QueueTimes::of(&attempt_counts.queue_times_ms),
            failures,
            first_attempt_at: attempt_counts.first_attempt_at.and_then(utc),
            last_created_at: attempt_counts.last_created_at.and_then(utc),
            achieved_cps: created_per_sec(states.created, duration_secs),
            duration_secs,
            dialing_spells: spells.len() as u64,
            runs: store
                .run_totals()
                .await?
                .iter()
                .map(|run| RunLine::of(run, configured_cps))
                .collect(),
            states,
            zone_sources: store.zone_sources().await?,
            law: match rules {
                Some(rules) => Some(LawApplied::read(store, rules).await?),
                None => None,
            },
            opted_out: {
                let (rows, longest) = store.opted_out_rows().await?;
                OptedOut {
                    rows: rows.max(0) as u64,
                    longest_to_honour_secs: longest.map(|ms| ms.max(0) as f64 / 1000.0),
                }
            },
            not_dialed,
        })
    }
}

impl QueueTimes {
    /// `None` when no created call reported a queue_time.
    pub fn of(sorted_ms: &[i64]) -> Option<Self> {
        Some(Self {
            p50: percentile(sorted_ms, 50.0)?,
            p95: percentile(sorted_ms, 95.0)?,
            p99: percentile(sorted_ms, 99.0)?,
            max: *sorted_ms.last()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_times_are_nearest_rank_percentiles() {
        let sorted: Vec<i64> = (1..=200).collect();

        let times = QueueTimes::of(&sorted);

        assert_eq!(
            times,
            Some(QueueTimes {
                p50: 100,
                p95: 190,
                p99: 198,
                max: 200
            })
        );
        assert_eq!(QueueTimes::of(&[]), None);
    }
}
