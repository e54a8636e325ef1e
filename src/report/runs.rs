//! The report's table of runs: when each run of the campaign started and ended, on which host,
//! the requests it sent and the calls they created, its rate, and how it exited.

use super::dialing_time::{created_per_sec, spell_secs};
use super::status::RunView;
use crate::domain::Cps;
use crate::store::{AttemptSpan, RunTotals};
use serde::Serialize;

/// One run, as the report lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunLine {
    #[serde(flatten)]
    pub run: RunView,
    /// Create requests it sent, and the calls they created (on the answer or a later check);
    /// null for a run recorded before runs were told apart.
    pub requests: Option<u64>,
    pub created: Option<u64>,
    /// Created calls per second from its first call to its last; null under 2 calls.
    pub created_per_sec: Option<f64>,
}

impl RunLine {
    pub fn of(totals: &RunTotals, cps: Cps) -> Self {
        let spell = totals
            .first_created_at
            .zip(totals.last_created_at)
            .map(|(first_ms, last_ms)| spell_secs(AttemptSpan { first_ms, last_ms }, cps));
        let created = totals.created.map(|n| n.max(0) as u64);
        Self {
            run: RunView::of(&totals.run),
            requests: totals.requests.map(|n| n.max(0) as u64),
            created,
            created_per_sec: created.and_then(|n| created_per_sec(n, spell)),
        }
    }
}

/// The runs the text and HTML reports list: the last ones, the newest last.
pub const RUNS_SHOWN: usize = 10;

/// The table's head, and each run's cells under it.
pub const RUN_COLUMNS: [&str; 7] = [
    "started (UTC)",
    "ended",
    "host",
    "requests",
    "created",
    "calls/s",
    "exit",
];

impl RunLine {
    /// The run's cells, as `RUN_COLUMNS` names them: its end as a time of day when it ended
    /// the day it started, `–` for what was not recorded.
    pub fn cells(&self) -> [String; 7] {
        let day_and_time = |at: &Option<String>| {
            at.as_deref()
                .map(|at| at.trim_end_matches('Z').replacen('T', " ", 1))
        };
        let started = day_and_time(&self.run.started_at);
        let ended = match (day_and_time(&self.run.finished_at), &started) {
            (Some(end), Some(start)) if end.get(..10) == start.get(..10) => end[11..].to_owned(),
            (Some(end), _) => end,
            (None, _) => "–".to_owned(),
        };
        let number = |n: Option<u64>| n.map_or_else(|| "–".to_owned(), |n| n.to_string());
        let exit = match (self.run.exit_code, self.run.ending) {
            (Some(code), Some(ending)) => format!("{code} {}", ending.as_str()),
            (Some(code), None) => code.to_string(),
            (None, _) => "– (running, or killed)".to_owned(),
        };
        [
            started.unwrap_or_default(),
            ended,
            self.run.host.clone().unwrap_or_else(|| "–".to_owned()),
            number(self.requests),
            number(self.created),
            self.created_per_sec
                .map_or_else(|| "–".to_owned(), |rate| format!("{rate:.1}")),
            exit,
        ]
    }
}

/// The last `RUNS_SHOWN` runs, and how many earlier ones were left out.
pub fn last_runs(runs: &[RunLine]) -> (&[RunLine], usize) {
    let earlier = runs.len().saturating_sub(RUNS_SHOWN);
    (&runs[earlier..], earlier)
}
