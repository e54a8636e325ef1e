//! `dialer check CAMPAIGN.toml`: the campaign file and its whole list checked as `dialer run`
//! checks them, without dialing and without touching the campaign's database (the list goes
//! into a scratch database in memory). Every bad line is reported as a run reports it: on
//! stderr with its number and reason, and in `<list>.rejects.csv`.

use super::Exit;
use crate::compliance::suppression::SuppressionLists;
use crate::config::{Campaign, ConfigError};
use crate::domain::Invalid;
use crate::import;
use crate::store::Store;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The campaign file.
    campaign: PathBuf,
}

pub async fn check(args: CheckArgs) -> anyhow::Result<Exit> {
    let campaign = Campaign::load(&args.campaign)?;
    if let Some(path) = campaign.database.sqlite_file() {
        writable(path).map_err(|cause| ConfigError::Invalid {
            path: args.campaign.display().to_string(),
            key: "database.path".into(),
            rule: Invalid(format!(
                "{} cannot be written, so a run could record nothing: {cause}",
                path.display()
            )),
        })?;
    }
    // No database is opened by a check: the Registry's data is aged on this host's clock,
    // which only decides whether the check warns of what a run would refuse.
    let now_ms = jiff::Timestamp::now().as_millisecond();
    let suppression =
        SuppressionLists::load(&campaign.rules.suppression, campaign.default_region, now_ms)?;
    let scratch = Store::open_scratch(&campaign.name).await?;
    let found = import::import(&campaign, &scratch).await;
    scratch.close().await;
    let found = found?;
    let dialable = found.new + found.already_imported;
    println!(
        "check: campaign {:?} is valid; its list has {}: {dialable} to dial, {} rejected, {} duplicates",
        campaign.name,
        crate::words::count(found.records, "line"),
        found.rejected,
        found.duplicates
    );
    if !found.ignored_columns.is_empty() {
        println!(
            "check: ignored columns (not Twilio parameters): {}",
            found.ignored_columns.join(", ")
        );
    }
    if !suppression.is_empty() {
        println!(
            "check: {} numbers on do-not-call lists will never be dialed",
            suppression.len()
        );
    }
    if let Some(rejects) = &found.rejects_file {
        println!("check: rejected lines are in {}", rejects.display());
    }
    Ok(if found.rejected > 0 {
        Exit::DoneWithFailures
    } else {
        Exit::Done
    })
}

/// Whether a run could write the SQLite file at `path`, found without changing it: the file
/// opened for writing if it exists, else a file created and removed beside where it would be.
fn writable(path: &Path) -> std::io::Result<()> {
    if path.exists() {
        return std::fs::OpenOptions::new().write(true).open(path).map(drop);
    }
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let probe = folder.join(format!(".dialer-check-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}
