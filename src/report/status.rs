//! `dialer status`'s answer for one campaign: where it stands, who dials it now, what its rows
//! wait for and until when, how its last run ended, and what is wrong. Built from what the
//! store read (`CampaignNow`) without another query; printed as JSON (these field names are an
//! interface, the README lists them) or as text (`status_text`).

use super::reason::{utc, zoned};
use crate::domain::{Hold, RunEnding, Standing};
use crate::store::{CampaignNow, RunRecord, StateCounts};
use jiff::tz::TimeZone;
use serde::Serialize;

/// One campaign file's status: `error` alone when it could not be read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StatusView {
    pub file: String,
    pub campaign: Option<String>,
    pub status: Option<Standing>,
    pub states: Option<StateCounts>,
    /// The processes with rows claimed now (hosts and pids).
    pub dialing: Vec<DialingView>,
    /// SQLite: whether a run holds the campaign's lock (`free`, `held`, `held by pid N`,
    /// `unknown`); null on PostgreSQL, where `dialing` says it.
    pub lock: Option<String>,
    pub in_doubt: Option<Waiting>,
    pub window: Option<Waiting>,
    pub frequency_cap: Option<Waiting>,
    /// When the next pending row falls due, unless one is due now.
    pub next_due_at: Option<String>,
    pub last_run: Option<RunView>,
    /// What needs a person: a file that does not load, a last run that was refused.
    pub problems: Vec<String>,
    /// Why the campaign could not be read at all.
    pub error: Option<String>,
    /// Set when no run has written the campaign's database yet.
    pub not_started: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DialingView {
    pub host: String,
    pub pid: Option<u32>,
    pub rows: i64,
    pub lease_until: Option<String>,
}

/// Rows that wait, from when the first may go (`from`) to when the last may (`until`).
#[derive(Debug, Clone, Serialize)]
pub struct Waiting {
    pub rows: i64,
    pub from: Option<String>,
    pub until: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunView {
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub host: Option<String>,
    pub exit_code: Option<i64>,
    /// Why its dialing ended: `finished`, `signal`, `deadline`, `credentials_refused`,
    /// `twilio_unreachable`, `database_failed`, `paused`, `canceled`, `window_closed`.
    pub ending: Option<RunEnding>,
}

impl RunView {
    pub fn of(run: &RunRecord) -> Self {
        Self {
            started_at: utc(run.started_at),
            finished_at: run.finished_at.and_then(utc),
            host: run.host.clone(),
            exit_code: run.exit_code,
            ending: run.ending,
        }
    }
}

impl StatusView {
    /// A campaign read from its database; `lock`: SQLite's lock holder, in words; `zone`: the
    /// calling window's, in which its opening is told.
    pub fn read(
        file: String,
        campaign: String,
        now: CampaignNow,
        lock: Option<String>,
        zone: Option<&TimeZone>,
    ) -> Self {
        let left = now.states.pending + now.states.dialing + now.states.unknown;
        let in_zone = |at: i64| zoned(at, zone.cloned().unwrap_or(TimeZone::UTC));
        let held = |hold: Option<Hold>, told: &dyn Fn(i64) -> String| {
            let held = now.held.iter().find(|h| h.hold == hold)?;
            Some(Waiting {
                rows: held.rows,
                from: Some(told(held.first)),
                until: Some(told(held.last)),
            })
        };
        let utc_text = |at: i64| utc(at).unwrap_or_else(|| at.to_string());
        let last_run = now.last_run.as_ref().map(RunView::of);
        Self {
            file,
            campaign: Some(campaign),
            status: Some(Standing::of(now.status, left)),
            dialing: now
                .dialing
                .iter()
                .map(|d| {
                    let (host, pid) = d.host_and_pid();
                    DialingView {
                        host: host.to_owned(),
                        pid,
                        rows: d.rows,
                        lease_until: d.lease_expires_at.and_then(utc),
                    }
                })
                .collect(),
            lock,
            in_doubt: (now.in_doubt > 0).then(|| Waiting {
                rows: now.in_doubt as i64,
                from: now.in_doubt_next_check.and_then(utc),
                until: None,
            }),
            window: held(Some(Hold::Window), &in_zone),
            frequency_cap: held(Some(Hold::FrequencyCap), &utc_text),
            next_due_at: now.next_due.and_then(utc),
            problems: problems(now.last_run.as_ref()),
            last_run,
            states: Some(now.states),
            error: None,
            not_started: None,
        }
    }

    /// A campaign no run has written yet: nothing to read, and nothing wrong.
    pub fn not_started(file: String, campaign: String, database: String) -> Self {
        Self {
            file,
            campaign: Some(campaign),
            not_started: Some(format!("no run yet (nothing in {database})")),
            ..Self::default()
        }
    }

    /// A campaign that could not be read: its file does not load, or its database fails.
    pub fn unreadable(file: String, campaign: Option<String>, error: String) -> Self {
        Self {
            file,
            campaign,
            problems: vec![error.clone()],
            error: Some(error),
            ..Self::default()
        }
    }
}

/// What the last run's ending and exit code (`cli::Exit`'s) say is wrong.
fn problems(run: Option<&RunRecord>) -> Vec<String> {
    let Some(run) = run else {
        return Vec::new();
    };
    let exit = run
        .exit_code
        .map(|code| format!(" (exit {code})"))
        .unwrap_or_default();
    let problem = match (run.ending, run.exit_code) {
        (Some(RunEnding::CredentialsRefused), _) => {
            format!("Twilio refused the credentials in the last run{exit}")
        }
        (Some(RunEnding::TwilioUnreachable), _) => {
            format!("Twilio could not be reached in the last run{exit}; its rows wait for the next")
        }
        (Some(RunEnding::DatabaseFailed), _) => {
            format!("the database could not record an outcome in the last run{exit}")
        }
        (_, Some(2)) => {
            "the last run was refused (exit 2): its configuration, list or credentials".to_owned()
        }
        (_, Some(1)) => "the last run ended with an error (exit 1): see its log".to_owned(),
        _ => return Vec::new(),
    };
    vec![problem]
}
