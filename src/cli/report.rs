//! `dialer report` and `dialer export`: read a campaign's database to say what happened and
//! why a person was not called. Neither takes the campaign's lock, so both work during a run.

use super::Exit;
use crate::config::Campaign;
use crate::report::{CampaignReport, render_text, write_csv};
use crate::store::Store;
use anyhow::Context;
use clap::Args;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The campaign file (TOML).
    campaign: PathBuf,
    /// Print the report as JSON (every line without a call, whatever --limit says).
    #[arg(long)]
    json: bool,
    /// How many lines without a call to list; `dialer export` has them all.
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The campaign file (TOML).
    campaign: PathBuf,
    /// Write the CSV to this file instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub async fn report(args: ReportArgs) -> anyhow::Result<Exit> {
    let (campaign, store) = open_store(&args.campaign).await?;
    let report = CampaignReport::build(&store, &campaign.name, campaign.cps).await;
    store.close().await;
    let report = report?;
    let text = if args.json {
        let mut json =
            serde_json::to_string_pretty(&report).context("could not print the report as JSON")?;
        json.push('\n');
        json
    } else {
        render_text(&report, args.limit)
    };
    print_to_stdout(text.as_bytes())
}

pub async fn export(args: ExportArgs) -> anyhow::Result<Exit> {
    let (campaign, store) = open_store(&args.campaign).await?;
    let rows = store.export_rows().await;
    store.close().await;
    let rows = rows?;
    let Some(out) = args.out else {
        let mut csv = Vec::new();
        write_csv(&rows, &mut csv)?;
        return print_to_stdout(&csv);
    };
    let mut inputs = vec![campaign.file.as_path(), campaign.list.as_path()];
    inputs.extend(campaign.database.sqlite_file());
    refuse_to_overwrite(&out, &inputs)?;
    let file = std::fs::File::create(&out)
        .with_context(|| format!("could not create {}", out.display()))?;
    let written = write_csv(&rows, io::BufWriter::new(file))
        .with_context(|| format!("could not write {}", out.display()))?;
    crate::diagnostic!("{written} lines exported to {}", out.display());
    Ok(Exit::Done)
}

/// The campaign and its database, which a report never creates: no database means no run yet.
async fn open_store(campaign_file: &Path) -> anyhow::Result<(Campaign, Store)> {
    let campaign = Campaign::load(campaign_file)?;
    let Some(store) = Store::open_existing(&campaign.database, &campaign.name).await? else {
        anyhow::bail!(
            "no run yet for this campaign (database {} not found)",
            campaign.database
        );
    };
    Ok((campaign, store))
}

/// An export written over the list or the database would destroy the campaign.
fn refuse_to_overwrite(out: &Path, campaign_files: &[&Path]) -> anyhow::Result<()> {
    let Ok(out) = out.canonicalize() else {
        return Ok(());
    };
    match campaign_files
        .iter()
        .find(|file| file.canonicalize().is_ok_and(|file| file == out))
    {
        Some(file) => anyhow::bail!(
            "refusing to export over the campaign's own file {}",
            file.display()
        ),
        None => Ok(()),
    }
}

/// A reader that stops early (`| head`) is not an error.
fn print_to_stdout(bytes: &[u8]) -> anyhow::Result<Exit> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(e).context("could not write to stdout")
        }
        _ => Ok(Exit::Done),
    }
}
