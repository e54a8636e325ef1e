//! `dialer campaign pause|resume|cancel CAMPAIGN.toml`: the campaign's switch, written to its
//! database without taking the run lock, so that it works while a run is dialing (the run
//! notices within about two seconds; calls already sent finish). `requeue`, which puts failed
//! rows back the same way, is in `requeue`.

use super::Exit;
use crate::config::Campaign;
use crate::domain::CampaignStatus;
use crate::store::Store;
use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Stop dialing: a running run stops taking rows, later runs dial nobody until resumed.
    Pause(CampaignArgs),
    /// Dial again from the next run.
    Resume(CampaignArgs),
    /// Never dial the rows not yet called (final; calls already created are kept).
    Cancel(CampaignArgs),
    /// Put failed rows back to pending with a fresh attempt budget.
    ///
    /// At least one of --failed, --code, --line; several combine as AND (--code 20003 --line 12 40: the
    /// failed rows at those lines whose last error code is 20003). Rows created, in doubt or
    /// being dialed are never touched.
    Requeue(super::requeue::RequeueArgs),
}

#[derive(Debug, Args)]
pub struct CampaignArgs {
    /// The campaign file.
    campaign: PathBuf,
}

pub async fn run(command: CampaignCommand) -> anyhow::Result<Exit> {
    let (args, wanted) = match command {
        CampaignCommand::Pause(args) => (args, CampaignStatus::Paused),
        CampaignCommand::Resume(args) => (args, CampaignStatus::Running),
        CampaignCommand::Cancel(args) => (args, CampaignStatus::Canceled),
        CampaignCommand::Requeue(args) => return super::requeue::run(args).await,
    };
    let campaign = Campaign::load(&args.campaign)?;
    let store = Store::open(&campaign.database, &campaign.name)
        .await
        .context("Failed to open the campaign database")?;
    let outcome = switch(&store, &campaign.name, wanted).await;
    store.close().await;
    outcome
}

async fn switch(store: &Store, name: &str, wanted: CampaignStatus) -> anyhow::Result<Exit> {
    if wanted == CampaignStatus::Canceled {
        let rows = store
            .cancel_campaign()
            .await
            .context("Failed to cancel the campaign")?;
        println!(
            "campaign {name:?} canceled: {} not yet called will never be dialed",
            crate::words::count(rows, "row")
        );
        return Ok(Exit::Done);
    }
    let now = store
        .set_campaign_status(wanted)
        .await
        .context("Failed to change the campaign's status")?;
    match now {
        CampaignStatus::Canceled => {
            crate::diagnostic!("campaign {name:?} was canceled; a cancel is final");
            Ok(Exit::Config)
        }
        CampaignStatus::Paused => {
            println!("campaign {name:?} paused: runs dial nobody until `dialer campaign resume`");
            Ok(Exit::Done)
        }
        CampaignStatus::Running => {
            println!("campaign {name:?} resumed: the next run dials again");
            Ok(Exit::Done)
        }
    }
}
