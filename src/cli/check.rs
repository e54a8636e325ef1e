//! `dialer check CAMPAIGN.toml`: the campaign file and its whole list checked as `dialer run`
//! checks them, without dialing and without touching the campaign's database (the list goes
//! into a scratch database in memory). Every bad line is reported as a run reports it: on
//! stderr with its number and reason, and in `<list>.rejects.csv`.

use super::Exit;
use crate::compliance::suppression::SuppressionLists;
use crate::config::Campaign;
use crate::import;
use crate::store::Store;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The campaign file.
    campaign: PathBuf,
}

pub async fn check(args: CheckArgs) -> anyhow::Result<Exit> {
    let campaign = Campaign::load(&args.campaign)?;
    let suppression = SuppressionLists::load(&campaign.rules.suppression, campaign.default_region)?;
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
