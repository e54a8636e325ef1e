//! What a campaign did, and for every person it did not call, why not: the answers behind
//! `dialer report` and `dialer export`. Built from the campaign database alone, so it works
//! during a run as well as after one.
//!
//! `dialer report --json` prints a [`CampaignReport`]; its field names are an interface:
//!
//! - `campaign`, `configured_cps`: from the campaign file.
//! - `status`: `active`, `paused`, `canceled`, or `done` (nothing left to dial or to check).
//! - `rows`: list lines imported (one per distinct `to`).
//! - `states`: rows by state: `pending`, `dialing`, `created`, `failed`, `unknown`, `suppressed`
//!   (on a do-not-call list), `canceled` (pending when the campaign was canceled);
//!   `retrying` (the pending rows tried at least once) and `rejected` (lines refused at import).
//! - `law`: `telemarketing` (false when the campaign said it is not: the law's hours and caps
//!   were not applied), `reviewed` (when the shipped rules were read from their sources), and
//!   `jurisdictions`: each the campaign's rows belong to, `code`, `rows`, and `source` (the
//!   citation applied, or null when no rules ship for it: its rows get the federal ones); null
//!   when the report was made without the campaign's rules.
//! - `zone_sources`: rows by where their callee's time zone came from: `list` (the list's
//!   `timezone` column), `prefix` (the number's prefix, by libphonenumber's map), `campaign`
//!   (neither: `window.timezone`), `unrecorded` (imported before the source was kept).
//! - `attempts`: `total` create requests and `by_outcome` (`created`, `retry`, `failed`,
//!   `unknown`, `not_created`, `found`, `sending`).
//! - `calls`: how the calls ended, every call counted (a recycled row's earlier calls too):
//!   `completed`, `busy`, `no_answer`, `failed`, `canceled`, `answered_by_human`,
//!   `answered_by_machine`, `talk_secs_total` and `talk_secs_average` (of completed calls, or
//!   null), and `awaiting` (created calls without a final status yet).
//! - `queue_time_ms`: `p50`, `p95`, `p99`, `max` of the created calls, or null.
//! - `failures`: failed and unknown rows grouped by Twilio error: `code` (or null), `message`, `rows`.
//! - `first_attempt_at`, `last_created_at`: RFC 3339 UTC, or null.
//! - `duration_secs`: the time spent dialing, or null before any call: each spell of calls
//!   created from its first to its last plus one interval at the configured CPS, a pause of
//!   over 10 minutes without one ending a spell (the nights between a cron campaign's runs are
//!   not counted, nor retries of failing numbers after the last call); `dialing_spells`: how
//!   many; `achieved_cps`: created calls / `duration_secs` (null under 2 calls).
//! - `runs`: every run, the oldest first: `started_at`, `finished_at` (null while it runs, or
//!   if it was killed), `host`, `exit_code`, `ending` (as `dialer status` says it),
//!   `requests` and `created` (null for runs recorded before they were counted by run), and
//!   `created_per_sec` over its own first to last call created.
//! - `opted_out`: `rows` never dialed because their number opted out (`dialer optout`,
//!   `POST /optouts` on `dialer serve`), and `longest_to_honour_secs`, the longest time from
//!   an opt-out's record to its row's suppression (null without any).
//! - `not_dialed`: every line without a call, in line order: `line`, `to`, `label`, `state`
//!   (a row state, or `rejected`), `reason`, a sentence (with the time a held row waits for),
//!   and `requeued`: null, or a sentence saying when the row was last put back by
//!   `dialer campaign requeue` and what it had failed with.
//!
//! `dialer report --html FILE` writes the same report as one self-contained page with charts
//! (`html`): the numbers behind them come from the store, already aggregated (`chart_data`),
//! and are drawn by plotters' SVG backend (`plot`, `charts`, `bar_charts`).

mod bar_charts;
mod calls;
mod chart_data;
mod charts;
mod dialing_time;
mod export;
#[cfg(test)]
mod fixture;
mod html;
mod html_tables;
mod law;
mod markup;
mod plot;
mod reason;
mod runs;
mod status;
mod status_text;
mod summary;
mod text;
mod time_axis;
mod timeline;

pub use chart_data::{ChartData, HourCalls, LocalHours};
pub use export::{ExportError, HEADER, write_csv};
pub use html::render_html;
pub use law::{JurisdictionRows, LawApplied};
pub use plot::ChartError;
pub use reason::{Circumstances, describe_error, requeue_history, why_not_created};
pub use runs::RunLine;
pub use status::StatusView;
pub use status_text::render_status;
pub use summary::{Attempts, CampaignReport, NotDialed, OptedOut, QueueTimes};
pub use text::render_text;
pub use timeline::{Period, Timeline};

#[cfg(test)]
mod tests {
    use super::fixture::{self, campaign_in_every_state};
    use super::*;
    use crate::domain::Cps;
    use crate::store::{FailureGroup, StateCounts};

    #[tokio::test]
    async fn the_report_counts_every_state_attempt_and_failure() {
        let campaign = campaign_in_every_state().await;

        let report = CampaignReport::build(&campaign.store, "spring", Cps::new(10).unwrap(), None)
            .await
            .unwrap();

        let expected_states = StateCounts {
            pending: 2,
            dialing: 1,
            created: 4,
            failed: 1,
            unknown: 1,
            retrying: 1,
            rejected: 2,
            ..StateCounts::default()
        };
        assert_eq!(report.states, expected_states);
        assert_eq!(report.rows, 9);
        assert_eq!(report.configured_cps, 10);
        assert_eq!(report.attempts.total, 8);
        let outcomes: Vec<(&str, u64)> = report
            .attempts
            .by_outcome
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("created", 4),
                ("failed", 1),
                ("retry", 1),
                ("sending", 1),
                ("unknown", 1)
            ]
        );
        assert_eq!(
            report.queue_time_ms,
            Some(QueueTimes {
                p50: 200,
                p95: 400,
                p99: 400,
                max: 400
            })
        );
        assert!(report.first_attempt_at.is_some() && report.last_created_at.is_some());
    }

    #[tokio::test]
    async fn failures_are_grouped_by_twilio_error_code() {
        let campaign = campaign_in_every_state().await;

        let mut failures =
            CampaignReport::build(&campaign.store, "spring", Cps::new(10).unwrap(), None)
                .await
                .unwrap()
                .failures;

        failures.sort_by_key(|group| group.code);
        assert_eq!(
            failures,
            [
                FailureGroup {
                    code: None,
                    message: fixture::UNKNOWN_MESSAGE.into(),
                    rows: 1
                },
                FailureGroup {
                    code: Some(21211),
                    message: "Invalid 'To' Phone Number".into(),
                    rows: 1
                },
            ]
        );
    }

    #[tokio::test]
    async fn every_line_without_a_call_says_why() {
        let campaign = campaign_in_every_state().await;

        let report = CampaignReport::build(&campaign.store, "spring", Cps::new(10).unwrap(), None)
            .await
            .unwrap();

        let reasons: Vec<(u64, &str, &str)> = report
            .not_dialed
            .iter()
            .map(|row| (row.line, row.state.as_str(), row.reason.as_str()))
            .collect();
        assert_eq!(reasons, fixture::expected_not_dialed());
        assert_eq!(report.not_dialed[0].to, "+15550000006");
        assert_eq!(
            report.not_dialed[5].to, "+15550000002",
            "a duplicate shows the number it repeats"
        );
    }
}
