//! `dialer report` and `dialer export`: read a campaign's database to say what happened and
//! why a person was not called. Neither takes the campaign's lock, so both work during a run.
//! `report --html` writes a page with charts; like `export --out`, never over the campaign's
//! own files, and atomically (a reader never sees half a page).

use super::Exit;
use crate::config::Campaign;
use crate::report::{
    CampaignReport, ChartData, Circumstances, render_html, render_text, write_csv,
};
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
    /// Write the report, with charts, as one self-contained HTML file (no script, nothing
    /// loaded from the network) instead of printing it.
    #[arg(long, value_name = "FILE", conflicts_with = "json")]
    html: Option<PathBuf>,
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
    if let Some(out) = &args.html {
        let page = match refuse_to_overwrite(out, &campaign_files(&campaign)) {
            Ok(()) => html_page(&campaign, &store, args.limit).await,
            Err(refused) => Err(refused),
        };
        store.close().await;
        crate::atomic_file::write(out, page?.as_bytes())
            .with_context(|| format!("could not write {}", out.display()))?;
        crate::diagnostic!("report written to {}", out.display());
        return Ok(Exit::Done);
    }
    let report =
        CampaignReport::build(&store, &campaign.name, campaign.cps, Some(&campaign.rules)).await;
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
    let read = async {
        let now = Circumstances::read(&store, Some(&campaign.rules)).await?;
        Ok::<_, crate::store::StoreError>((store.export_rows().await?, now))
    }
    .await;
    store.close().await;
    let (rows, now) = read?;
    let Some(out) = args.out else {
        let mut csv = Vec::new();
        write_csv(&rows, &now, &mut csv)?;
        return print_to_stdout(&csv);
    };
    refuse_to_overwrite(&out, &campaign_files(&campaign))?;
    let file = std::fs::File::create(&out)
        .with_context(|| format!("could not create {}", out.display()))?;
    let written = write_csv(&rows, &now, io::BufWriter::new(file))
        .with_context(|| format!("could not write {}", out.display()))?;
    crate::diagnostic!(
        "{} exported to {}",
        crate::words::count(written, "line"),
        out.display()
    );
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

async fn html_page(campaign: &Campaign, store: &Store, limit: usize) -> anyhow::Result<String> {
    let zone = window_zone(campaign);
    let report =
        CampaignReport::build(store, &campaign.name, campaign.cps, Some(&campaign.rules)).await?;
    let data = ChartData::build(store, campaign.cps, zone).await?;
    Ok(render_html(&report, &data, limit)?)
}

/// The zone of the campaign's calling window, if it has one.
fn window_zone(campaign: &Campaign) -> Option<&jiff::tz::TimeZone> {
    campaign
        .rules
        .window
        .as_ref()
        .map(|window| &window.timezone)
}

/// The files a run reads or writes: the campaign file, its list, its SQLite database.
fn campaign_files(campaign: &Campaign) -> Vec<&Path> {
    let mut files = vec![campaign.file.as_path(), campaign.list.as_path()];
    files.extend(campaign.database.sqlite_file());
    files
}

/// A file written over the list or the database would destroy the campaign.
fn refuse_to_overwrite(out: &Path, campaign_files: &[&Path]) -> anyhow::Result<()> {
    let Ok(out) = out.canonicalize() else {
        return Ok(());
    };
    match campaign_files
        .iter()
        .find(|file| file.canonicalize().is_ok_and(|file| file == out))
    {
        Some(file) => anyhow::bail!(
            "refusing to write over the campaign's own file {}",
            file.display()
        ),
        None => Ok(()),
    }
}

/// A reader that stops early (`| head`) is not an error.
pub(super) fn print_to_stdout(bytes: &[u8]) -> anyhow::Result<Exit> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(e).context("could not write to stdout")
        }
        _ => Ok(Exit::Done),
    }
}
