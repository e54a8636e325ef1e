//! `dialer plan`: which pending rows the gate would let through at an instant, and for each it
//! would not, every rule that holds it and the first instant it could be called. Decided by
//! the gate's own parts (`Schedule`, the do-not-call lists, the caps), without dialing or
//! changing a row; the rows are read a page at a time, each group of rows that the same hours
//! bind weighed once, so a million rows take seconds.

use super::calling_hours::{HoursRule, Verdict, open_everywhere};
use super::frequency::{caps_for, every_cap, release_of, widest_ms};
use super::schedule::{Hours, Schedule};
use super::suppression::SuppressionLists;
use crate::config::Campaign;
use crate::domain::{CampaignStatus, Endpoint, PersonId};
use crate::store::{OptOutSource, PendingRow, RowGroup, Store, StoreError};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

const PAGE: i64 = 10_000;

/// The plan at one instant; its field names are an interface (`dialer plan --json`).
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub campaign: String,
    /// The instant weighed, RFC 3339 UTC.
    pub at: String,
    /// `running`, `paused` or `canceled`.
    pub status: &'static str,
    pub pending: u64,
    /// Pending rows the gate would let through at `at`.
    pub callable: u64,
    /// Rows held, by what holds them (a row held by several rules counts under each).
    pub held: Vec<HeldBy>,
    /// The first `limit` pending rows in line order, callable or not.
    pub rows: Vec<PlanRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeldBy {
    /// What holds the rows: "outside Florida's telemarketing hours", "on a do-not-call list".
    pub rule: String,
    /// The law's citation, or the campaign file's section.
    pub source: String,
    pub rows: u64,
    /// When the first of them, and the last, may be called as far as this rule goes (UTC);
    /// null: never, or not before the campaign is resumed.
    pub first_free_at: Option<String>,
    pub last_free_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanRow {
    pub line: u64,
    pub to: String,
    pub label: String,
    pub callable: bool,
    /// Every rule that holds it, each with the instant it lets go.
    pub reasons: Vec<String>,
    /// The first instant every rule lets it through, on the callee's clock; null when callable
    /// now, or never (a do-not-call list, a paused campaign).
    pub first_callable_at: Option<String>,
}

/// One rule holding one row: what, from where, and until when (`None`: no end in sight).
struct Holding {
    rule: String,
    source: String,
    until: Option<i64>,
}

/// Weighs every pending row of `campaign` at `at` (unix ms).
pub async fn plan(
    campaign: &Campaign,
    store: &Store,
    suppression: &SuppressionLists,
    at_ms: i64,
    limit: usize,
) -> Result<Plan, StoreError> {
    let schedule = Schedule::new(campaign.rules.window.clone(), campaign.rules.law);
    let status = store.campaign_status().await?;
    let at = Timestamp::from_millisecond(at_ms).unwrap_or(Timestamp::UNIX_EPOCH);
    let widest = widest_ms(&every_cap(&campaign.rules.frequency, campaign.rules.law));
    let placed = PlacedCalls::since(store, at_ms.saturating_sub(widest)).await?;
    // Opt-outs in force now, by number (a person's other numbers are suppressed by the run).
    let opted_out: HashMap<Endpoint, OptOutSource> = store
        .opt_outs()
        .await?
        .into_iter()
        .map(|o| (o.number, o.source))
        .collect();
    let mut groups: HashMap<RowGroup, (Vec<Holding>, u64)> = HashMap::new();
    let mut held: BTreeMap<(String, String), Tally> = BTreeMap::new();
    let (mut pending, mut callable, mut rows) = (0u64, 0u64, Vec::new());
    let mut after = 0;
    loop {
        let page = store.pending_rows_after(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for row in &page {
            pending += 1;
            let group = RowGroup {
                zones: row.zones.clone(),
                jurisdictions: row.jurisdictions.clone(),
            };
            // The hours are weighed once per group, and tallied once per group at the end.
            let (hours, in_group) = match groups.get_mut(&group) {
                Some(found) => found,
                None => {
                    let hours = hours_holding(&schedule, &group, at);
                    groups.entry(group.clone()).or_insert((hours, 0))
                }
            };
            *in_group += 1;
            let own = row_holding(
                campaign,
                row,
                status,
                suppression,
                &opted_out,
                &placed,
                at_ms,
            );
            if hours.is_empty() && own.is_empty() {
                callable += 1;
            }
            for h in &own {
                held.entry((h.rule.clone(), h.source.clone()))
                    .or_default()
                    .add(h.until, 1);
            }
            if rows.len() < limit {
                let holding: Vec<&Holding> = hours.iter().chain(&own).collect();
                rows.push(plan_row(&schedule, &group, row, &holding));
            }
        }
    }
    for (hours, in_group) in groups.values() {
        for h in hours {
            held.entry((h.rule.clone(), h.source.clone()))
                .or_default()
                .add(h.until, *in_group);
        }
    }
    rows.sort_by_key(|r: &PlanRow| r.line);
    let utc = |at: Option<i64>| {
        at.and_then(|ms| Timestamp::from_millisecond(ms).ok())
            .map(|t| t.to_string())
    };
    let mut held: Vec<HeldBy> = held
        .into_iter()
        .map(|((rule, source), tally)| HeldBy {
            rule,
            source,
            rows: tally.rows,
            first_free_at: utc(tally.first),
            last_free_at: utc(tally.last),
        })
        .collect();
    held.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.rule.cmp(&b.rule)));
    Ok(Plan {
        campaign: campaign.name.clone(),
        at: at.to_string(),
        status: status.as_str(),
        pending,
        callable,
        held,
        rows,
    })
}

/// Rows one rule holds, and the first and last instants it lets one go.
#[derive(Default)]
struct Tally {
    rows: u64,
    first: Option<i64>,
    last: Option<i64>,
}

impl Tally {
    /// `rows` more rows that this rule lets go at `until`.
    fn add(&mut self, until: Option<i64>, rows: u64) {
        self.rows += rows;
        self.first = match (self.first, until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = self.last.max(until);
    }
}

/// Every hours rule closed for `group` at `at`, each with its own next opening.
fn hours_holding(schedule: &Schedule, group: &RowGroup, at: Timestamp) -> Vec<Holding> {
    let (rules, zones) = schedule.rules_for(group);
    rules
        .iter()
        .filter_map(|hours| {
            let until = match open_everywhere(std::slice::from_ref(hours), &zones, at) {
                Verdict::Open => return None,
                Verdict::OpensAt { at, .. } => Some(at.as_millisecond()),
                Verdict::Never { .. } => None,
            };
            Some(Holding {
                rule: hours.rule.outside(),
                source: source_of(&hours.rule),
                until,
            })
        })
        .collect()
}

fn source_of(rule: &HoursRule) -> String {
    match rule {
        HoursRule::Campaign => "the campaign's [window]".to_owned(),
        HoursRule::Law { source, .. } => source.clone(),
    }
}

/// What holds this row besides the hours: the campaign's status, a do-not-call list, a
/// retry's wait, a cap on calls to the person.
fn row_holding(
    campaign: &Campaign,
    row: &PendingRow,
    status: CampaignStatus,
    suppression: &SuppressionLists,
    opted_out: &HashMap<Endpoint, OptOutSource>,
    placed: &PlacedCalls,
    at_ms: i64,
) -> Vec<Holding> {
    let mut holding = Vec::new();
    if status != CampaignStatus::Running {
        holding.push(Holding {
            rule: format!("the campaign is {}", status.as_str()),
            source: "dialer campaign".to_owned(),
            until: None,
        });
    }
    if let Some(list) = suppression.reason_for(&row.to) {
        holding.push(Holding {
            rule: "on a do-not-call list".to_owned(),
            source: list.to_owned(),
            until: None,
        });
    }
    if let Some(source) = opted_out.get(&row.to) {
        holding.push(Holding {
            rule: source.reason().to_owned(),
            source: "opt-outs".to_owned(),
            until: None,
        });
    }
    if row.attempts > 0 && row.next_attempt_at > at_ms {
        holding.push(Holding {
            rule: "waiting for a retry".to_owned(),
            source: "[retry]".to_owned(),
            until: Some(row.next_attempt_at),
        });
    }
    // Nobody called in the span is under every cap: most rows of a large list.
    let calls = placed.to(row);
    if calls.is_empty() {
        return holding;
    }
    let caps = caps_for(
        &campaign.rules.frequency,
        campaign.rules.law,
        row.jurisdictions.as_ref(),
    );
    if let Some((until, cap)) = release_of(&caps, &calls, at_ms) {
        holding.push(Holding {
            rule: format!("held back by {}", cap.describe()),
            source: cap.source.clone(),
            until: Some(until),
        });
    }
    holding
}

/// The row as the plan lists it: its reasons, and the first instant all of them let go of
/// it, moved on to the next opening of its hours if that falls outside them.
fn plan_row(
    schedule: &Schedule,
    group: &RowGroup,
    row: &PendingRow,
    holding: &[&Holding],
) -> PlanRow {
    let zone = row
        .zones
        .as_ref()
        .and_then(|z| z.zones().first().cloned())
        .unwrap_or(TimeZone::UTC);
    let shown = |ms: i64| {
        Timestamp::from_millisecond(ms)
            .map(|t| {
                t.to_zoned(zone.clone())
                    .strftime("%Y-%m-%dT%H:%M:%S%:z")
                    .to_string()
            })
            .unwrap_or_default()
    };
    let reasons = holding
        .iter()
        .map(|h| match h.until {
            Some(until) => format!("{} ({}) until {}", h.rule, h.source, shown(until)),
            None => format!("{} ({})", h.rule, h.source),
        })
        .collect();
    let never = holding.iter().any(|h| h.until.is_none());
    let first_callable_at = match (holding.is_empty(), never) {
        (true, _) | (_, true) => None,
        (false, false) => {
            let free = holding.iter().filter_map(|h| h.until).max().unwrap_or(0);
            let free_at = Timestamp::from_millisecond(free).unwrap_or(Timestamp::UNIX_EPOCH);
            let opens = match schedule.now(group, free_at) {
                Hours::Closed { until, .. } => until.as_millisecond(),
                Hours::Open | Hours::Never { .. } => free,
            };
            Some(shown(opens))
        }
    };
    PlanRow {
        line: row.line,
        to: row.to.as_str().to_owned(),
        label: row.label.as_str().to_owned(),
        callable: holding.is_empty(),
        reasons,
        first_callable_at,
    }
}

/// The calls placed since some instant, by number and by person, each oldest first.
#[derive(Default)]
struct PlacedCalls {
    by_number: HashMap<Endpoint, Vec<i64>>,
    by_person: HashMap<PersonId, Vec<i64>>,
}

impl PlacedCalls {
    async fn since(store: &Store, since_ms: i64) -> Result<Self, StoreError> {
        let mut placed = Self::default();
        for (to, person, at) in store.calls_placed_since(since_ms).await? {
            match person {
                Some(person) => placed.by_person.entry(person).or_default().push(at),
                None => placed.by_number.entry(to).or_default().push(at),
            }
        }
        Ok(placed)
    }

    /// The calls a cap counts for `row`: to every number of its person, or to its number
    /// (oldest first).
    fn to(&self, row: &PendingRow) -> Vec<i64> {
        if self.by_number.is_empty() && self.by_person.is_empty() {
            return Vec::new();
        }
        let mut calls: Vec<i64> = self.by_number.get(&row.to).cloned().unwrap_or_default();
        if let Some(person) = &row.person {
            calls.extend(self.by_person.get(person).into_iter().flatten());
        }
        calls.sort_unstable();
        calls
    }
}
