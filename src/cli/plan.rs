//! `dialer plan CAMPAIGN.toml [--at TIME] [--json]`: without dialing anyone, which pending
//! rows would be called at TIME (now by default) and, for each that would not, every rule
//! that holds it and the first instant it could be called. The list is imported first, as a
//! run would (unless a run holds the campaign: its rows are weighed as that run imported them).

use super::Exit;
use crate::campaign::lock::{CampaignLock, LockError};
use crate::compliance::gate::fill_in_jurisdictions;
use crate::compliance::plan::{Plan, plan};
use crate::compliance::suppression::SuppressionLists;
use crate::config::Campaign;
use crate::foreign_text::printable;
use crate::store::Store;
use anyhow::Context;
use clap::Args;
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The campaign file.
    campaign: PathBuf,
    /// The instant to weigh: RFC 3339 (`2026-12-08T20:30:00-05:00`) or a zoned time
    /// (`2026-12-08T20:30[America/New_York]`); now by default.
    #[arg(long)]
    at: Option<String>,
    /// Print the plan as one JSON object.
    #[arg(long)]
    json: bool,
    /// Rows listed one by one (the counts cover every row).
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

pub async fn run(args: PlanArgs) -> anyhow::Result<Exit> {
    let campaign = Campaign::load(&args.campaign)?;
    let at = args.at.as_deref().map(parse_instant).transpose()?;
    let store = Store::open(&campaign.database, &campaign.name)
        .await?
        .with_lease(campaign.lease);
    let planned = async {
        import_unless_running(&campaign, &store).await?;
        fill_in_jurisdictions(&store).await?;
        let suppression = SuppressionLists::load(
            &campaign.rules.suppression,
            campaign.default_region,
            store.now_ms(),
        )?;
        let at_ms = at.map_or_else(|| store.now_ms(), |at| at.as_millisecond());
        Ok::<_, anyhow::Error>(plan(&campaign, &store, &suppression, at_ms, args.limit).await?)
    }
    .await;
    store.close().await;
    let planned = planned?;
    let text = match args.json {
        true => {
            let mut json =
                serde_json::to_string_pretty(&planned).context("could not print the plan")?;
            json.push('\n');
            json
        }
        false => render(&planned),
    };
    super::report::print_to_stdout(text.as_bytes())?;
    Ok(Exit::Done)
}

/// Imports the list as a run would, under the campaign's lock on SQLite; a run holding it
/// has imported the list itself.
async fn import_unless_running(campaign: &Campaign, store: &Store) -> anyhow::Result<()> {
    let _lock = match campaign.database.sqlite_file() {
        Some(path) => match CampaignLock::acquire(path, &campaign.name) {
            Ok(lock) => Some(lock),
            Err(LockError::Held(_)) => {
                crate::diagnostic!(
                    "a run holds the campaign: its rows are weighed as it imported them"
                );
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    crate::import::import(campaign, store).await?;
    Ok(())
}

fn parse_instant(raw: &str) -> anyhow::Result<jiff::Timestamp> {
    if let Ok(at) = raw.parse::<jiff::Timestamp>() {
        return Ok(at);
    }
    let zoned: jiff::Zoned = raw.parse().with_context(|| {
        format!("--at {raw:?}: give RFC 3339 (2026-12-08T20:30:00-05:00) or a zoned time (2026-12-08T20:30[America/New_York])")
    })?;
    Ok(zoned.timestamp())
}

fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let held = plan.pending - plan.callable;
    _ = writeln!(
        out,
        "campaign {} at {} ({}): {} pending, {} would be called, {} held",
        plan.campaign, plan.at, plan.status, plan.pending, plan.callable, held
    );
    if !plan.held.is_empty() {
        out.push_str("held by (a row held by several rules counts under each):\n");
        for h in &plan.held {
            let until = match (&h.first_free_at, &h.last_free_at) {
                (Some(first), Some(last)) if first == last => format!("free at {first}"),
                (Some(first), Some(last)) => format!("free from {first} to {last}"),
                _ => "no end in sight".to_owned(),
            };
            _ = writeln!(
                out,
                "  {:>8}  {} ({}); {until}",
                h.rows,
                h.rule,
                printable(&h.source)
            );
        }
    }
    if !plan.rows.is_empty() {
        _ = writeln!(out, "the first {} pending rows:", plan.rows.len());
        for row in &plan.rows {
            let verdict = match (&row.first_callable_at, row.callable) {
                (_, true) => "would be called".to_owned(),
                (Some(at), false) => format!("callable from {at}"),
                (None, false) => "not callable".to_owned(),
            };
            _ = writeln!(
                out,
                "  {:>6}  {}  {}  {verdict}",
                row.line,
                printable(&row.to),
                printable(&row.label)
            );
            for reason in &row.reasons {
                _ = writeln!(out, "          {}", printable(reason));
            }
        }
    }
    out
}
