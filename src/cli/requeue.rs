//! `dialer campaign requeue CAMPAIGN.toml --failed | --code N | --line N…`: failed rows back to
//! pending with a fresh attempt budget, e.g. after a Twilio outage made them give up. Written to
//! the campaign's database without the run lock, like pause and cancel: only `failed` rows
//! move, so it is safe while a run is dialing, and that run dials them too.

use super::Exit;
use crate::config::Campaign;
use crate::domain::CampaignStatus;
use crate::report::describe_error;
use crate::store::{RequeueSelection, Requeued, RequeuedRow, Store};
use anyhow::Context;
use clap::{ArgGroup, Args};
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).multiple(true)))]
pub struct RequeueArgs {
    /// The campaign file.
    campaign: PathBuf,
    /// Every failed row.
    #[arg(long, group = "which")]
    failed: bool,
    /// Failed rows whose last Twilio error code is N (e.g. 20003).
    #[arg(long, value_name = "N", group = "which")]
    code: Option<u32>,
    /// Failed rows at these list lines (as the report and the export number them); a line
    /// in another state is named with its state and left alone.
    #[arg(long, value_name = "N", num_args = 1.., value_delimiter = ',', group = "which")]
    line: Vec<u64>,
}

impl RequeueArgs {
    /// `--failed` adds nothing to "failed rows"; `--code` and `--line` narrow them.
    fn selection(&self) -> RequeueSelection {
        RequeueSelection {
            code: self.code,
            lines: (!self.line.is_empty()).then(|| self.line.clone()),
        }
    }
}

pub async fn run(args: RequeueArgs) -> anyhow::Result<Exit> {
    let campaign = Campaign::load(&args.campaign)?;
    let store = Store::open(&campaign.database, &campaign.name)
        .await
        .context("Failed to open the campaign database")?;
    let outcome = requeue(&store, &campaign.name, &args.selection()).await;
    store.close().await;
    outcome
}

async fn requeue(store: &Store, name: &str, selection: &RequeueSelection) -> anyhow::Result<Exit> {
    let status = store
        .campaign_status()
        .await
        .context("Failed to read the campaign's status")?;
    if status == CampaignStatus::Canceled {
        crate::diagnostic!("campaign {name:?} was canceled; a cancel is final: nothing put back");
        return Ok(Exit::Config);
    }
    let requeued = store
        .requeue_failed(selection)
        .await
        .context("Failed to put the failed rows back")?;
    print!("{}", summary(&requeued));
    if status == CampaignStatus::Paused && !requeued.rows.is_empty() {
        println!("campaign {name:?} is paused: they are dialed once it is resumed");
    }
    Ok(Exit::Done)
}

/// "put back 12 rows (failed: gave up after 3 attempts: could not reach Twilio ×10, error
/// 21211: … ×2)", then each named line left alone, with its state.
fn summary(requeued: &Requeued) -> String {
    let mut out = match requeued.rows.len() {
        0 => "no failed row matches: nothing put back\n".to_owned(),
        n => {
            let plural = if n == 1 { "" } else { "s" };
            let why: Vec<String> = by_reason(&requeued.rows)
                .into_iter()
                .map(|(reason, n)| format!("{reason} ×{n}"))
                .collect();
            format!("put back {n} row{plural} (failed: {})\n", why.join(", "))
        }
    };
    for (line, state) in &requeued.untouched {
        let state = match state {
            Some(crate::domain::RowState::Failed) => "failed, but not with that code".to_owned(),
            Some(state) => state.as_str().to_owned(),
            None => "no row (rejected at import, or not in the list)".to_owned(),
        };
        out.push_str(&format!("line {line}: {state}; not touched\n"));
    }
    out
}

/// The rows' failures, grouped by Twilio code (or, without one, by message), the most
/// frequent first.
fn by_reason(rows: &[RequeuedRow]) -> Vec<(String, usize)> {
    let mut groups: Vec<(Option<i64>, String, usize)> = Vec::new();
    for row in rows {
        let message = row.was_message.as_deref().unwrap_or_default();
        let same = |(code, first, _): &&mut (Option<i64>, String, usize)| match row.was_code {
            Some(_) => *code == row.was_code,
            None => code.is_none() && first == message,
        };
        match groups.iter_mut().find(same) {
            Some(group) => group.2 += 1,
            None => groups.push((row.was_code, message.to_owned(), 1)),
        }
    }
    groups.sort_by_key(|(_, _, n)| std::cmp::Reverse(*n));
    groups
        .into_iter()
        .map(|(code, message, n)| (describe_error(code, Some(&message)), n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RowState;

    fn failed(line: u64, code: Option<i64>, message: &str) -> RequeuedRow {
        RequeuedRow {
            line,
            attempts: 3,
            was_code: code,
            was_message: Some(message.to_owned()),
        }
    }

    #[test]
    fn the_summary_says_how_many_rows_and_why_grouped_by_code_or_message() {
        let outage = "gave up after 3 attempts: could not reach Twilio";
        let mut rows: Vec<RequeuedRow> = (0..10).map(|n| failed(n + 2, None, outage)).collect();
        rows.push(failed(20, Some(21211), "Invalid 'To' Phone Number"));
        rows.push(failed(21, Some(21211), "Invalid 'To' Phone Number"));
        let requeued = Requeued {
            rows,
            untouched: vec![
                (40, Some(RowState::Created)),
                (41, Some(RowState::Failed)),
                (7, None),
            ],
        };

        assert_eq!(
            summary(&requeued),
            "put back 12 rows (failed: gave up after 3 attempts: could not reach Twilio ×10, \
             error 21211: Invalid 'To' Phone Number ×2)\n\
             line 40: created; not touched\n\
             line 41: failed, but not with that code; not touched\n\
             line 7: no row (rejected at import, or not in the list); not touched\n"
        );
    }

    #[test]
    fn a_selection_that_matches_nothing_says_so() {
        assert_eq!(
            summary(&Requeued::default()),
            "no failed row matches: nothing put back\n"
        );
    }
}
